// The console's entry point (`yarn start`). It runs the bundle of src/ that esbuild writes to
// dist/, rebuilding it first when a source file is newer: a bundled start takes a fraction of a
// second, where transpiling the sources and viem's hundreds of modules on every run takes seconds.
import { mkdirSync, readdirSync, renameSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const bundle = join(root, "dist", "console.mjs");

/** The newest modification time among the files that go into the bundle. */
function newestSource() {
  let newest = statSync(join(root, "package.json")).mtimeMs;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(root, "src"));
  return newest;
}

function builtAt() {
  try {
    return statSync(bundle).mtimeMs;
  } catch {
    return -1;
  }
}

if (builtAt() < newestSource()) {
  const { build } = await import("esbuild");
  mkdirSync(dirname(bundle), { recursive: true });
  // Written aside and renamed, so that two consoles starting at once never run half a file.
  const partial = `${bundle}.${process.pid}.tmp`;
  try {
    await build({
      entryPoints: [join(root, "src", "index.ts")],
      outfile: partial,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      // viem and yargs are bundled too; the Rollups ABIs and deployments are JSON files that
      // src/ reads from node_modules at run time.
      logLevel: "error",
    });
  } catch {
    // esbuild has printed the errors with their locations.
    process.stderr.write("error: the console's sources do not build (hint: yarn typecheck)\n");
    process.exit(1);
  }
  renameSync(partial, bundle);
}

await import(pathToFileURL(bundle).href);
