/**
 * The inspect API, answered with a status and reports: v1 `GET <url>/<payload>`, v2 `POST
 * <url>/<application>` with the payload as the body.
 */
import { stringToHex } from "viem";
import { ConsoleError, fetchText } from "./errors.ts";
import { hexToText } from "./bytes.ts";

export interface InspectResult {
  httpStatus: number;
  /** The raw body when the answer was not 200 with JSON. */
  body?: string;
  status?: string;
  processedInputCount?: number;
  reports: string[];
  exceptionPayload: string | null;
}

/** `<url>/<payload>`: one slash between them, the payload's own query string kept. */
export function inspectUrl(url: string, payload: string): string {
  // A `#` would start a fragment and never reach the server.
  return `${url.replace(/\/+$/, "")}/${payload.replace(/^\/+/, "").replaceAll("#", "%23")}`;
}

export async function inspect(url: string, payload: string): Promise<InspectResult> {
  const target = inspectUrl(url, payload);
  return inspectAnswer(target, await fetchText(target, "inspect server", url));
}

/**
 * A Rollups v2 inspect: the payload's UTF-8 bytes posted to the application's inspect URL. The
 * answer's `exception` (a message, where v1 has a hex `exception_payload`) is kept as the
 * message's bytes, so that it prints the same way.
 */
export async function inspectV2(url: string, payload: string): Promise<InspectResult> {
  const response = await fetchText(url, "inspect server", url, {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: new TextEncoder().encode(payload),
  });
  return inspectAnswer(url, response);
}

function inspectAnswer(target: string, response: { status: number; text: string }): InspectResult {
  const text = response.text;
  if (response.status !== 200) {
    return { httpStatus: response.status, body: text, reports: [], exceptionPayload: null };
  }
  let body: {
    status?: unknown;
    processed_input_count?: unknown;
    reports?: unknown;
    exception_payload?: unknown;
    exception?: unknown;
  };
  try {
    // `?? {}`: a body of `null` is JSON too.
    body = (JSON.parse(text) ?? {}) as typeof body;
  } catch {
    throw new ConsoleError(
      `${target} answered 200 without JSON`,
      "check --url: inspect is served at /inspect",
    );
  }
  const reports = Array.isArray(body.reports)
    ? body.reports.map((r) => {
        const payload = (r as { payload?: unknown } | null)?.payload;
        return typeof payload === "string" ? payload : "0x";
      })
    : [];
  return {
    httpStatus: 200,
    ...(typeof body.status === "string" ? { status: body.status } : {}),
    ...(typeof body.processed_input_count === "number"
      ? { processedInputCount: body.processed_input_count }
      : {}),
    reports,
    exceptionPayload:
      typeof body.exception_payload === "string"
        ? body.exception_payload
        : typeof body.exception === "string" && body.exception !== ""
          ? stringToHex(body.exception)
          : null,
  };
}

/** The reference console's text: HTTP status, inspect status, input count, reports, exception. */
export function formatInspect(result: InspectResult): string[] {
  const lines = [`HTTP status: ${result.httpStatus}`];
  if (result.httpStatus !== 200) {
    lines.push(JSON.stringify(result.body ?? ""));
    return lines;
  }
  lines.push(`Inspect status: ${JSON.stringify(result.status)}`);
  lines.push(`Input count: ${JSON.stringify(result.processedInputCount)}`);
  lines.push("Reports:");
  result.reports.forEach((payload, i) => lines.push(`${i}: ${hexToText(payload)}`));
  if (result.exceptionPayload !== null) {
    lines.push(`Exception payload: ${hexToText(result.exceptionPayload)}`);
  }
  return lines;
}
