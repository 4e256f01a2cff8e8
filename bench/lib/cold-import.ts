/**
 * Cold import of a Lambda bundle: a fresh `node` process imports it and times
 * `await import(bundle)` with performance.now() inside the process, module evaluation
 * included (our handler builds its dependencies at import, with two DynamoDB reads; the
 * ltijs handler sets ltijs up). The parent also times the whole process, spawn to exit.
 */
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

export interface ImportSample {
  /** `await import(bundle)`, inside the process. */
  readonly importMs: number;
  /** From the process's time origin until the import finished (Node start-up + import). */
  readonly readyMs: number;
  /** Spawn to exit, measured by the parent. */
  readonly processMs: number;
}

const PROBE = `
const url = process.env.BENCH_BUNDLE_URL;
const t0 = performance.now();
const mod = await import(url);
const t1 = performance.now();
if (typeof mod.handler !== "function" && typeof mod.app !== "function") {
  throw new Error("the bundle exports neither handler nor app");
}
process.stdout.write(JSON.stringify({ importMs: t1 - t0, readyMs: t1 }) + "\\n");
process.exit(0);
`;

/** One fresh process; bounded by `timeoutMs`. `env` is all the process gets (plus PATH). */
export function importOnce(
  bundleFile: string,
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<ImportSample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["--input-type=module", "-e", PROBE], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        ...env,
        BENCH_BUNDLE_URL: pathToFileURL(bundleFile).href,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const processMs = performance.now() - started;
      const line = stdout.trim().split("\n").pop() ?? "";
      try {
        if (code !== 0) throw new Error(`exit ${code ?? signal}`);
        const parsed = JSON.parse(line) as { importMs: number; readyMs: number };
        resolve({ importMs: parsed.importMs, readyMs: parsed.readyMs, processMs });
      } catch (error) {
        reject(
          new Error(
            `Importing ${bundleFile} in a fresh process failed (${(error as Error).message}).\n${tail(stderr)}`,
          ),
        );
      }
    });
  });
}

/** The end of a (possibly minified, very long) error output. */
function tail(text: string, chars = 1_500): string {
  const trimmed = text.trim();
  return trimmed.length > chars ? `…${trimmed.slice(-chars)}` : trimmed;
}
