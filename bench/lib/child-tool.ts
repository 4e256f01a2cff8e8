/**
 * Each tool under test runs in its own Node process (as a Lambda would, apart from the
 * platform and the driver), started with tsx and driven over Node's IPC channel: "ready" with
 * its URL, "register" a platform the way that tool's administrator would, "stop".
 */
import { type ChildProcess, fork } from "node:child_process";
import type { PlatformRegistration } from "../../dev/platform/index.js";

type ParentMessage =
  | { type: "register"; registration: PlatformRegistration }
  | { type: "cpu" }
  | { type: "stop" };
type ChildMessage =
  | { type: "ready"; url: string }
  | { type: "registered" }
  | { type: "cpu"; userMs: number; systemMs: number }
  | { type: "error"; message: string };

export interface ToolProcess {
  readonly url: string;
  readonly pid: number | undefined;
  register(registration: PlatformRegistration): Promise<void>;
  /** CPU time the tool's process has used so far (process.cpuUsage), in ms. */
  cpu(): Promise<{ userMs: number; systemMs: number }>;
  stop(): Promise<void>;
}

const TSX = import.meta.resolve("tsx");

/** Parent side: fork `script` (a .ts file) and wait, at most `timeoutMs`, for its URL. */
export async function startToolProcess(
  script: string,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ToolProcess> {
  // BENCH_CPU_PROF=DIR: each tool process writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_CPU_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child = fork(script, [], {
    execArgv: ["--import", TSX, ...profile],
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const url = await expect(child, "ready", timeoutMs).then((m) => (m as { url: string }).url);
  let stopped = false;
  return {
    url,
    pid: child.pid,
    register: async (registration) => {
      const answer = expect(child, "registered", timeoutMs);
      child.send({ type: "register", registration } satisfies ParentMessage);
      await answer;
    },
    cpu: async () => {
      const answer = expect(child, "cpu", timeoutMs);
      child.send({ type: "cpu" } satisfies ParentMessage);
      const { userMs, systemMs } = (await answer) as { userMs: number; systemMs: number };
      return { userMs, systemMs };
    },
    stop: async () => {
      if (stopped || child.exitCode !== null) return;
      stopped = true;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      if (child.connected) child.send({ type: "stop" } satisfies ParentMessage);
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function expect(child: ChildProcess, type: ChildMessage["type"], timeoutMs: number): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      child.kill("SIGKILL");
      reject(new Error(`The tool process did not answer "${type}" within ${timeoutMs} ms.`));
    }, timeoutMs);
    const onMessage = (raw: unknown) => {
      const message = raw as ChildMessage;
      if (message.type === "error") {
        cleanup();
        reject(new Error(`The tool process failed: ${message.message}`));
      } else if (message.type === type) {
        cleanup();
        resolve(message);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`The tool process exited (code ${code}) before "${type}".`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

/**
 * Child side. Under `fork` it answers the parent; run directly (`npx tsx bench/ltijs/server.ts`)
 * it prints its URL and serves until Ctrl+C.
 */
export function serveParent(tool: {
  url: string;
  register(registration: PlatformRegistration): Promise<void>;
  stop(): Promise<void>;
}): void {
  const send = process.send?.bind(process);
  if (!send) {
    console.log(`Serving on ${tool.url} (Ctrl+C to stop).`);
    process.once("SIGINT", () => void tool.stop().then(() => process.exit(0)));
    return;
  }
  const exit = () => void tool.stop().finally(() => process.exit(0));
  // The parent went away: never outlive it.
  process.once("disconnect", exit);
  process.on("message", (raw: unknown) => {
    const message = raw as ParentMessage;
    if (message.type === "stop") exit();
    if (message.type === "cpu") {
      const { user, system } = process.cpuUsage();
      send({ type: "cpu", userMs: user / 1000, systemMs: system / 1000 } satisfies ChildMessage);
    }
    if (message.type === "register") {
      tool.register(message.registration).then(
        () => send({ type: "registered" } satisfies ChildMessage),
        (error: unknown) => send({ type: "error", message: String(error) } satisfies ChildMessage),
      );
    }
  });
  send({ type: "ready", url: tool.url } satisfies ChildMessage);
}

/** Child side: report a start-up failure to the parent (or the terminal) and exit. */
export function failStart(error: unknown): void {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (process.send) {
    process.send({ type: "error", message } satisfies ChildMessage, () => process.exit(1));
  } else {
    console.error(message);
    process.exit(1);
  }
}
