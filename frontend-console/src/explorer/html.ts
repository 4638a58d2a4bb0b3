/**
 * HTML built from template literals (tagged `markup`, a name Prettier does not reformat as HTML), with every interpolated value escaped unless it is already
 * `Html`: a payload, an error message or a token name from the chain can never become markup.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function piece(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(piece).join("");
  if (value === undefined || value === null || value === false) return "";
  if (typeof value === "string") return escape(value);
  if (typeof value === "number" || typeof value === "bigint" || value === true) {
    return escape(String(value));
  }
  return escape(JSON.stringify(value));
}

export function markup(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += piece(v) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

/** A link inside the explorer (hash routing). */
export function link(route: string, label: unknown, className?: string): Html {
  const cls = className === undefined ? "" : markup` class="${className}"`;
  return markup`<a href="#/${route}"${cls}>${label}</a>`;
}

/** `0x1234…abcd`, with the whole value on hover. */
export function short(hex: string, keep = 10): Html {
  if (hex.length <= 2 * keep + 2) return markup`<span class="mono">${hex}</span>`;
  const cut = `${hex.slice(0, keep)}…${hex.slice(-keep + 2)}`;
  return markup`<span class="mono" title="${hex}">${cut}</span>`;
}

/** A relative age such as `12 s ago` from a Unix time in seconds. */
export function age(unixSeconds: number, nowMs: number): string {
  const s = Math.max(0, Math.round(nowMs / 1000 - unixSeconds));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** What the search box was given: where to look for it. */
export type SearchTarget =
  | { kind: "number"; value: number }
  | { kind: "hash"; value: string }
  | { kind: "address"; value: string }
  | { kind: "invalid"; why: string };

export function classifySearch(query: string): SearchTarget {
  const q = query.trim();
  if (/^[0-9]{1,15}$/.test(q)) return { kind: "number", value: Number(q) };
  if (/^0x[0-9a-fA-F]{64}$/.test(q)) return { kind: "hash", value: q.toLowerCase() };
  if (/^0x[0-9a-fA-F]{40}$/.test(q)) return { kind: "address", value: q };
  return {
    kind: "invalid",
    why: "search takes a block height or input index, a block or transaction hash (0x + 64 hex digits) or an address (0x + 40 hex digits)",
  };
}
