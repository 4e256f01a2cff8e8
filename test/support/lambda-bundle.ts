import { join } from "node:path";
import { build } from "esbuild";
import { BUNDLE_ALIASES } from "../../infra/constructs/hlta-function.js";

const ROOT = join(import.meta.dirname, "..", "..");

/**
 * Bundles as the Lambda functions are bundled (infra/constructs/hlta-function.ts, and
 * bench/build-bundles.ts): ESM for node22, the SDK bundled in, BUNDLE_ALIASES applied, a
 * `require` banner; not minified, so tests can read it. An `entry` is built in memory (its text
 * in `outputFiles`); `source` (TypeScript resolved from the project) is written to `outfile`.
 */
export function lambdaBundle(input: { entry: string } | { source: string; outfile: string }) {
  return build({
    ...("entry" in input
      ? { entryPoints: [input.entry], write: false, outdir: "/nonexistent" }
      : { stdin: { contents: input.source, resolveDir: ROOT, loader: "ts" }, outfile: input.outfile }),
    absWorkingDir: ROOT,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    metafile: true,
    logLevel: "silent",
    mainFields: ["module", "main"],
    alias: { ...BUNDLE_ALIASES },
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
}
