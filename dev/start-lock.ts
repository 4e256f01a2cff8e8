/**
 * One `npm start` per data folder. Two would run two DynamoDB Locals on one database file and
 * two s3rvers on one folder. The lock is a file linked into place whole (link(2) fails when the
 * name exists), so of two starts at the same moment exactly one gets it, and no start ever reads
 * it empty or half-written. It names the process that holds it and, once started,
 * the DynamoDB Local it runs, so a start after one that was killed outright (kill -9, a closed
 * terminal on some systems) can stop the emulator it left behind before taking the folder over.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fstatSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import * as z from "zod";

const LockSchema = z.object({
  pid: z.number().int().positive(),
  dynamoPid: z.optional(z.number().int().positive()),
  /** Which start made the lock: a start changes or removes only its own. */
  token: z.optional(z.string()),
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
  const token = randomBytes(12).toString("hex");
  let stale: LockRecord | undefined;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (placeWhole(path, { pid, token }, "create")) {
      const lock = heldLock(path, pid, token);
      // Only now, holding the folder, stop what a start killed outright left running.
      if (stale?.dynamoPid && isRunning(probe, stale.dynamoPid, "DynamoDBLocal")) {
        await stopProcess(probe, stale.dynamoPid);
        return { held: true, lock, stoppedLeftOver: { dynamoPid: stale.dynamoPid } };
      }
      return { held: true, lock };
    }
    const seen = readLockFile(path);
    if (!seen) continue; // released in the meantime
    // A lock naming this very pid is a dead start's: in a container every start has the same pid.
    if (seen.record && seen.record.pid !== pid && isRunning(probe, seen.record.pid, "dev/start")) {
      return { held: false, holderPid: seen.record.pid };
    }
    // The holder is gone without releasing the lock. Of several starts that judged it stale, only
    // the one whose rename moves that very file (same inode, same bytes) clears it; one that moved
    // a lock made since puts it back, and its next attempt finds that lock's live holder.
    const aside = `${path}.${token}.stale`;
    try {
      renameSync(path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw error;
    }
    if (sameFile(aside, seen)) {
      stale = seen.record;
    } else {
      try {
        linkSync(aside, path);
      } catch {
        // A third start made a lock in that very instant (three starts at once on a stale lock):
        // the start whose lock was moved runs on without its file. Not made safe; too rare to.
      }
    }
    rmSync(aside, { force: true });
  }
  // Other starts kept taking the folder between our attempts.
  const holder = readLockFile(path)?.record;
  return holder ? { held: false, holderPid: holder.pid } : { held: false };
}

/**
 * The record written whole, never a half-written or empty lock: to a file of its own first, then
 * linked into place ("create": fails, returning false, when a lock is there) or renamed over the
 * lock ("replace").
 */
function placeWhole(path: string, record: LockRecord, how: "create" | "replace"): boolean {
  const temp = `${path}.${record.token ?? record.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temp, JSON.stringify(record), { flag: "wx" });
  try {
    if (how === "replace") {
      renameSync(temp, path);
      return true;
    }
    linkSync(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** The lock this start holds: it changes or removes the lock only while the lock is still its own. */
function heldLock(path: string, pid: number, token: string): StartLock {
  let record: LockRecord = { pid, token };
  const ours = () => readLockFile(path)?.record?.token === token;
  return {
    recordDynamo(dynamoPid) {
      record = { ...record, dynamoPid };
      if (ours()) placeWhole(path, record, "replace");
    },
    release() {
      if (ours()) rmSync(path, { force: true });
    },
  };
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

interface SeenLock {
  /** Undefined when the file cannot be read as a lock: damaged, so stale. */
  record: LockRecord | undefined;
  ino: number;
  text: string;
}

/** The lock file as read, with its inode; undefined when there is none. */
function readLockFile(path: string): SeenLock | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const ino = fstatSync(fd).ino;
    const text = readFileSync(fd, "utf8");
    let record: LockRecord | undefined;
    try {
      const parsed = LockSchema.safeParse(JSON.parse(text));
      record = parsed.success ? parsed.data : undefined;
    } catch {
      record = undefined; // damaged: stale
    }
    return { record, ino, text };
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether the file at `path` is the lock seen before. The inode alone could be a new lock's: a
 * file system reuses a removed file's inode number at once; every new lock has its own token.
 */
function sameFile(path: string, seen: SeenLock): boolean {
  const again = readLockFile(path);
  return again !== undefined && again.ino === seen.ino && again.text === seen.text;
}
