/**
 * One `npm start` per data folder. Two would run two DynamoDB Locals on one database file and
 * two s3rvers on one folder. The lock is a file made with O_EXCL (`wx`), so of two starts at
 * the same moment exactly one gets it; it names the process that holds it and, once started,
 * the DynamoDB Local it runs, so a start after one that was killed outright (kill -9, a closed
 * terminal on some systems) can stop the emulator it left behind before taking the folder over.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import * as z from "zod";

const LockSchema = z.object({
  pid: z.number().int().positive(),
  dynamoPid: z.optional(z.number().int().positive()),
});
type LockRecord = z.infer<typeof LockSchema>;

/** What the lock needs from the operating system; the defaults ask the real one. */
export interface ProcessProbe {
  /** The command line of a live process, "" when it is alive but cannot be read, undefined when it is gone. */
  commandOf(pid: number): string | undefined;
  kill(pid: number, signal: NodeJS.Signals): void;
}

export const systemProbe: ProcessProbe = {
  commandOf(pid) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      // EPERM: alive, someone else's. ESRCH: gone.
      if ((error as NodeJS.ErrnoException).code !== "EPERM") return undefined;
    }
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      return ""; // no /proc (macOS): alive is all we know
    }
  },
  kill: (pid, signal) => process.kill(pid, signal),
};

export type StartLockResult =
  | { held: true; lock: StartLock; stoppedLeftOver?: { dynamoPid: number } }
  | { held: false; holderPid?: number };

export interface StartLock {
  /** Records the DynamoDB Local this start runs, for a later start to clean up after a kill -9. */
  recordDynamo(pid: number): void;
  release(): void;
}

/** A live process that is, as far as can be told, what the record says it is. */
function isRunning(probe: ProcessProbe, pid: number, marker: string): boolean {
  const command = probe.commandOf(pid);
  if (command === undefined) return false;
  // A pid reused after a reboot runs something else; without /proc, trust that it is alive.
  return command === "" || command.includes(marker);
}

export async function acquireStartLock(
  dataDir: string,
  options: { pid?: number; probe?: ProcessProbe } = {},
): Promise<StartLockResult> {
  const path = join(dataDir, "start.lock");
  const pid = options.pid ?? process.pid;
  const probe = options.probe ?? systemProbe;
  let leftOver: { dynamoPid: number } | undefined;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(path, JSON.stringify({ pid } satisfies LockRecord), { flag: "wx" });
      let record: LockRecord = { pid };
      const lock: StartLock = {
        recordDynamo(dynamoPid) {
          record = { ...record, dynamoPid };
          writeFileSync(path, JSON.stringify(record));
        },
        release() {
          rmSync(path, { force: true });
        },
      };
      return leftOver ? { held: true, lock, stoppedLeftOver: leftOver } : { held: true, lock };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = readLock(path);
    if (holder && isRunning(probe, holder.pid, "dev/start")) return { held: false, holderPid: holder.pid };
    // The holder is gone without releasing the lock: stop what it left running, take the folder.
    if (holder?.dynamoPid && isRunning(probe, holder.dynamoPid, "DynamoDBLocal")) {
      await stopProcess(probe, holder.dynamoPid);
      leftOver = { dynamoPid: holder.dynamoPid };
    }
    rmSync(path, { force: true });
  }
  // Another start took the folder between our two attempts.
  const holder = readLock(path);
  return holder ? { held: false, holderPid: holder.pid } : { held: false };
}

/** SIGTERM, up to 5 s to exit (DynamoDB Local closes its database), then SIGKILL. */
async function stopProcess(probe: ProcessProbe, pid: number): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      probe.kill(pid, name);
    } catch {
      // gone in the meantime
    }
  };
  signal("SIGTERM");
  for (let i = 0; i < 50 && probe.commandOf(pid) !== undefined; i += 1) await sleep(100);
  if (probe.commandOf(pid) !== undefined) signal("SIGKILL");
}

function readLock(path: string): LockRecord | undefined {
  try {
    const parsed = LockSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // gone, or half-written by a start killed that instant: stale either way
  }
}
