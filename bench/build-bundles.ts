/**
 * `npm run build:lambda`: the web Lambda bundles, built with the settings of the CDK
 * NodejsFunction (esbuild; ESM, platform node, target node22, minified, the AWS SDK bundled in
 * with its credential chain cut to the environment link and `node:process` read from the global
 * (BUNDLE_ALIASES), a banner defining `require` for
 * bundled CommonJS):
 *
 *   bench/.build/ours/handler.mjs    from functions/web/handler.ts (what CDK deploys)
 *   bench/.build/ltijs/handler.mjs   from bench/ltijs/handler.ts (the baseline)
 *
 * and, for information only, the same with the AWS SDK left to the runtime (`*-sdk-external/`).
 * ltijs is bundled whole: nothing is marked external for it. What esbuild cannot resolve is
 * left as a runtime `require` and listed (the MongoDB driver's optional peers, which mongoose
 * loads inside try/catch and which are not installed: they fail to load, as from node_modules).
 */
import { existsSync, rmSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type BuildOptions, build, type Metafile } from "esbuild";
import { BUNDLE_ALIASES } from "../infra/constructs/hlta-function.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BUILD_DIR = join(ROOT, "bench", ".build");

/** The require shim CDK documents for ESM bundles of CommonJS code. */
const BANNER = "import { createRequire } from 'module';const require = createRequire(import.meta.url);";

/**
 * ltijs also needs `__dirname`, which ESM does not have: its deep-linking service builds the
 * path of an HTML template (`__dirname/../../Templates/…`) when its module is evaluated, so
 * without it the bundle cannot even be imported. The template itself is only read on a deep
 * linking request; a deployed ltijs bundle would have to ship it beside the bundle.
 */
const LTIJS_BANNER =
  `${BANNER}import { fileURLToPath as __bench_fileURLToPath } from 'url';import { dirname as __bench_dirname } from 'path';` +
  "const __filename = __bench_fileURLToPath(import.meta.url);const __dirname = __bench_dirname(__filename);";

export type BundleName = "ours" | "ltijs";

export interface BundleReport {
  name: BundleName;
  /** The deployable bundle (AWS SDK bundled in, as CDK builds it). */
  file: string;
  bytes: number;
  /** The same with the AWS SDK left to the Lambda runtime (information). */
  sdkExternalFile: string;
  sdkExternalBytes: number;
  /** Largest contributors to the deployable bundle, by package. */
  topPackages: { name: string; bytes: number }[];
  /** Packages left as runtime requires (not `@aws-sdk/*`, not Node built-ins). */
  unbundled: string[];
  warnings: number;
}

interface Target {
  name: BundleName;
  entry: string;
  banner: string;
}

const TARGETS: Target[] = [
  { name: "ours", entry: join(ROOT, "functions", "web", "handler.ts"), banner: BANNER },
  { name: "ltijs", entry: join(ROOT, "bench", "ltijs", "handler.ts"), banner: LTIJS_BANNER },
];

function options(target: Target, outfile: string, sdkExternal: boolean): BuildOptions {
  return {
    entryPoints: [target.entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    minify: true,
    sourcemap: false,
    mainFields: ["module", "main"],
    external: sdkExternal ? ["@aws-sdk/*"] : [],
    // Ours as CDK bundles it: the credential chain cut to its environment link (CDK's esbuildArgs).
    ...(target.name === "ours" && !sdkExternal ? { alias: { ...BUNDLE_ALIASES } } : {}),
    banner: { js: target.banner },
    metafile: true,
    logLevel: "silent",
    // The web app's own JSX runtime (tsconfig "jsxImportSource", functions/web/jsx/).
    jsx: "automatic",
    jsxImportSource: "#jsx",
    absWorkingDir: ROOT,
  };
}

export async function buildBundles(): Promise<BundleReport[]> {
  if (existsSync(BUILD_DIR)) rmSync(BUILD_DIR, { recursive: true, force: true });
  const reports: BundleReport[] = [];
  for (const target of TARGETS) {
    const file = join(BUILD_DIR, target.name, "handler.mjs");
    const sdkExternalFile = join(BUILD_DIR, `${target.name}-sdk-external`, "handler.mjs");
    // As CDK deploys it: the AWS SDK bundled in (infra/constructs/hlta-function.ts).
    const main = await build(options(target, file, false));
    await build(options(target, sdkExternalFile, true));
    reports.push({
      name: target.name,
      file,
      bytes: statSync(file).size,
      sdkExternalFile,
      sdkExternalBytes: statSync(sdkExternalFile).size,
      topPackages: topPackages(main.metafile),
      unbundled: unbundled(main.metafile),
      warnings: main.warnings.length,
    });
  }
  return reports;
}

/** Imports esbuild left to run time, other than the AWS SDK and Node's built-ins. */
function unbundled(metafile: Metafile | undefined): string[] {
  const names = new Set<string>();
  for (const input of Object.values(metafile?.inputs ?? {})) {
    for (const imported of input.imports) {
      if (!imported.external) continue;
      const path = imported.path;
      if (path.startsWith("node:") || builtinModules.includes(path.split("/")[0] ?? "")) continue;
      if (path.startsWith("@aws-sdk/") || path === "<runtime>") continue;
      names.add(path);
    }
  }
  return [...names].sort();
}

/** Output bytes per npm package (or "(own code)"), largest first. */
function topPackages(metafile: Metafile | undefined, count = 5): { name: string; bytes: number }[] {
  const perPackage = new Map<string, number>();
  for (const output of Object.values(metafile?.outputs ?? {})) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const name = match?.[1] ?? "(own code)";
      perPackage.set(name, (perPackage.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...perPackage.entries()]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function printReports(reports: BundleReport[]): void {
  for (const r of reports) {
    console.log(
      `${r.name.padEnd(6)} ${relative(ROOT, r.file).padEnd(30)} ${String(r.bytes).padStart(9)} bytes (${formatBytes(r.bytes)}); with the AWS SDK left external: ${r.sdkExternalBytes} bytes (${formatBytes(r.sdkExternalBytes)})`,
    );
    console.log(
      `       largest: ${r.topPackages.map((p) => `${p.name} ${formatBytes(p.bytes)}`).join(", ")}`,
    );
    if (r.unbundled.length > 0) {
      console.log(
        `       not bundled (not installed, optional, required in try/catch): ${r.unbundled.join(", ")}`,
      );
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printReports(await buildBundles());
}
