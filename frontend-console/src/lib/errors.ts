/**
 * The one error type commands raise on purpose: a reason and a hint of what to try. The entry point
 * prints it as one line on stderr and exits non-zero; anything else is turned into one by
 * `toConsoleError`.
 */
export class ConsoleError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "ConsoleError";
  }
}

/** Network failures (refused, unknown host, reset) of `fetch` and of viem's HTTP transport. */
export function isUnreachable(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 6 && e instanceof Error; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (
      typeof code === "string" &&
      /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH)$/.test(code)
    ) {
      return true;
    }
    if (e.message === "fetch failed" || e.name === "HttpRequestError") return true;
    e = e.cause;
  }
  return false;
}

/** Turns any thrown value into a ConsoleError with a useful one-line message. */
export function toConsoleError(error: unknown): ConsoleError {
  if (error instanceof ConsoleError) return error;
  if (error instanceof Error) {
    // viem errors carry a one-line `shortMessage`; their `message` spans many lines.
    const short = (error as { shortMessage?: unknown }).shortMessage;
    const text = typeof short === "string" && short !== "" ? short : error.message;
    return new ConsoleError(firstLine(text));
  }
  return new ConsoleError(String(error));
}

export function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "");
  return (line ?? text).trim();
}

/** The error for a server that does not answer, naming the option that points at it. */
export function unreachable(what: string, url: string, flag: string): ConsoleError {
  return new ConsoleError(
    `cannot reach the ${what} at ${url}`,
    `start the dev node (scripts/run.sh), or pass ${flag}`,
  );
}

/**
 * `fetch`, with a server that does not answer turned into `unreachable` (naming `server`, the URL
 * the user gave, and `flag`, the option that sets it); the body as text.
 */
export async function fetchText(
  url: string,
  what: string,
  server: string,
  init?: RequestInit,
  flag = "--url",
): Promise<{ status: number; text: string }> {
  try {
    const response = await fetch(url, init);
    return { status: response.status, text: await response.text() };
  } catch (e) {
    if (isUnreachable(e)) throw unreachable(what, server, flag);
    throw e;
  }
}
