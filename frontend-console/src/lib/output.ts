/**
 * Where text goes: results on stdout (as text, or one JSON value with `--json`), progress and
 * errors on stderr, so that `--json` output can be piped.
 */
import { ConsoleError } from "./errors.ts";

export interface Out {
  readonly json: boolean;
  progress: (line: string) => void;
  result: (lines: string | readonly string[], value: unknown) => void;
}

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** Something text can be written to: the process's streams, or a collector in tests. */
export interface Sink {
  write: (text: string) => unknown;
}

export function makeOut(
  json: boolean,
  stdout: Sink = process.stdout,
  stderr: Sink = process.stderr,
): Out {
  return {
    json,
    progress: (line) => stderr.write(`${line}\n`),
    result: (lines, value) => {
      if (json) stdout.write(`${toJson(value)}\n`);
      else stdout.write(`${typeof lines === "string" ? lines : lines.join("\n")}\n`);
    },
  };
}

/** The one line an error becomes on stderr. */
export function errorLine(error: ConsoleError, json: boolean): string {
  if (json)
    return toJson({
      error: error.message,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    });
  return `error: ${error.message}${error.hint === undefined ? "" : ` (hint: ${error.hint})`}`;
}
