/**
 * Builds the explorer's script, `explorer.js` (the pages and the console's decoders, one minified
 * ES module), which the dev node embeds and serves at `/explorer/` beside the page and its style
 * sheet (`index.html`, `explorer.css`: hand-written, kept only in `devnode/explorer/`).
 * `yarn build:explorer` writes it there; a unit test builds it in memory and fails when the
 * committed file differs, so the bundle cannot go stale.
 *
 * The bundle targets browsers: a Node API reached from the pages fails the build here, not the
 * page at run time.
 */
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));

/** Where the dev node's sources take the bundle from (`include_bytes!` in `devnode/src/explorer.rs`). */
export const BUNDLE_DIR = resolve(here, "..", "..", "..", "devnode", "explorer");

/** The bundle's files by name. */
export async function buildExplorer(): Promise<Map<string, Uint8Array>> {
  const result = await build({
    entryPoints: [join(here, "main.ts")],
    bundle: true,
    write: false,
    platform: "browser",
    format: "esm",
    target: "es2022",
    minify: true,
    legalComments: "none",
    charset: "utf8",
    logLevel: "silent",
  });
  const script = result.outputFiles[0];
  if (script === undefined) throw new Error("esbuild wrote no bundle");
  return new Map<string, Uint8Array>([["explorer.js", script.contents]]);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [name, bytes] of await buildExplorer()) {
    writeFileSync(join(BUNDLE_DIR, name), bytes);
    process.stderr.write(`wrote devnode/explorer/${name} (${bytes.length} bytes)\n`);
  }
}
