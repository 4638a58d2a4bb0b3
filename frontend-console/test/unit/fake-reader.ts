/**
 * A local HTTP server that stands in for the reader's GraphQL and inspect APIs: it answers what a
 * test prepared with `answer` and records every request it received in `seen`.
 */
import assert from "node:assert/strict";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach } from "node:test";
import { ConsoleError } from "../../src/lib/errors.ts";

export interface Seen {
  method: string;
  url: string;
  query: string;
  variables: Record<string, unknown>;
}

export type Answer = { status?: number; json?: unknown; text?: string };

let server: Server;
export let base = "";
export let graphqlUrl = "";
export let seen: Seen[] = [];
let answers: Answer[] = [];

function handle(req: IncomingMessage, res: ServerResponse): void {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => {
    body += chunk;
  });
  req.on("end", () => {
    let query = "";
    let variables: Record<string, unknown> = {};
    if (body !== "") {
      const parsed = JSON.parse(body) as { query: string; variables: Record<string, unknown> };
      query = parsed.query;
      variables = parsed.variables;
    }
    seen.push({ method: req.method ?? "", url: req.url ?? "", query, variables });
    const answer = answers.length > 1 ? answers.shift() : answers[0];
    if (answer === undefined) {
      res.writeHead(500).end("no answer prepared");
      return;
    }
    const json = answer.json !== undefined;
    res.writeHead(answer.status ?? 200, {
      "content-type": json ? "application/json" : "text/plain",
    });
    res.end(json ? JSON.stringify(answer.json) : (answer.text ?? ""));
  });
}

/** The server answers these in turn, repeating the last one. */
export function answer(...list: Answer[]): void {
  answers = list;
}

/** The i-th request the server received. */
export function request(i: number): Seen {
  const r = seen[i];
  assert.ok(r !== undefined, `no request ${i}`);
  return r;
}

export async function rejectsConsoleError(
  promise: Promise<unknown>,
  message: RegExp,
): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof ConsoleError, `expected a ConsoleError, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

/** Starts the server for the calling test file, and forgets requests and answers between tests. */
export function serveReader(): void {
  before(async () => {
    server = createServer(handle);
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const { port } = server.address() as AddressInfo;
    base = `http://127.0.0.1:${port}`;
    graphqlUrl = `${base}/graphql`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((ok) =>
      server.close(() => {
        ok();
      }),
    );
  });

  beforeEach(() => {
    seen = [];
    answers = [];
  });
}
