/**
 * Cold import of a Lambda bundle: a fresh `node` process imports it and times
 * `await import(bundle)` with performance.now() inside the process, module evaluation
 * included (our handler builds its dependencies at import, touching no network; the ltijs
 * handler sets ltijs up). The parent also times the whole process, spawn to exit.
 *
 * Timings on a shared 2-core machine move by ±10 ms from run to run, so the same import is
 * also counted in instructions (valgrind's callgrind), which repeat within about 3 %.
 */
import { spawn, spawnSync } from "node:child_process";
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

interface ProbeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Spawn to exit, measured by the parent. */
  processMs: number;
}

/**
 * The import probe in one fresh process: `command` with `args` before the probe's own node
 * arguments (none: node itself; valgrind: its options and node's path). `env` is all the
 * process gets (plus PATH); killed after `timeoutMs`.
 */
function runProbe(
  bundleFile: string,
  env: Record<string, string>,
  timeoutMs: number,
  command: string,
  args: readonly string[],
): Promise<ProbeRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, [...args, "--input-type=module", "-e", PROBE], {
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
      resolve({ code, signal, stdout, stderr, processMs: performance.now() - started });
    });
  });
}

/** One fresh process; bounded by `timeoutMs`. `env` is all the process gets (plus PATH). */
export async function importOnce(
  bundleFile: string,
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<ImportSample> {
  const run = await runProbe(bundleFile, env, timeoutMs, process.execPath, []);
  const line = run.stdout.trim().split("\n").pop() ?? "";
  try {
    if (run.code !== 0) throw new Error(`exit ${run.code ?? run.signal}`);
    const parsed = JSON.parse(line) as { importMs: number; readyMs: number };
    return { importMs: parsed.importMs, readyMs: parsed.readyMs, processMs: run.processMs };
  } catch (error) {
    throw new Error(
      `Importing ${bundleFile} in a fresh process failed (${(error as Error).message}).\n${tail(run.stderr)}`,
    );
  }
}

/** Whether valgrind is installed (it is on every machine of this kind; elsewhere the count is skipped). */
export function valgrindAvailable(): boolean {
  return spawnSync("valgrind", ["--version"], { stdio: "ignore" }).status === 0;
}

/**
 * Instructions a fresh `node` process executes to start, `await import(bundle)` and exit, counted
 * by callgrind (one run; subtract an empty module's count for the import alone). Node runs
 * `--single-threaded`, so no background compiler or GC thread adds to the count.
 */
export async function importInstructions(
  bundleFile: string,
  env: Record<string, string>,
  timeoutMs = 180_000,
): Promise<number> {
  const run = await runProbe(bundleFile, env, timeoutMs, "valgrind", [
    "--tool=callgrind",
    "--callgrind-out-file=/dev/null",
    process.execPath,
    "--single-threaded",
  ]);
  const collected = run.stderr.match(/Collected\s*:\s*(\d+)/);
  if (run.code === 0 && collected?.[1]) return Number(collected[1]);
  throw new Error(
    `Counting the import of ${bundleFile} failed (exit ${run.code ?? run.signal}).\n${tail(run.stderr)}`,
  );
}

/** The end of a (possibly minified, very long) error output. */
function tail(text: string, chars = 1_500): string {
  const trimmed = text.trim();
  return trimmed.length > chars ? `…${trimmed.slice(-chars)}` : trimmed;
}
