import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { startDynamoLocal } from "../../../dev/local-services.js";

const ROOT = new URL("../../../", import.meta.url).pathname;

/** Processes whose command line mentions `text` (Linux's /proc). */
function processesMentioning(text: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The addresses the kernel lists as listening on `port` (Linux's /proc/net/tcp and tcp6: the
 * address as hex words in the machine's byte order, then the port; state 0A is LISTEN).
 */
function listeningAddresses(port: number): string[] {
  const found: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      const [address, hexPort] = local?.split(":") ?? [];
      if (state === "0A" && address && hexPort && Number.parseInt(hexPort, 16) === port) found.push(address);
    }
  }
  return found;
}

/** 127.0.0.0/8, ::1, or ::ffff:127.x.x.x as /proc writes them (little-endian words on x86 and arm). */
function isLoopback(hex: string): boolean {
  if (hex.length === 8) return hex.endsWith("7F");
  if (hex === "00000000000000000000000001000000") return true;
  return hex.startsWith("0000000000000000FFFF0000") && hex.endsWith("7F");
}

describe("DynamoDB Local as the tool starts it", () => {
  it("listens on 127.0.0.1 only and answers no web page's cross-origin call", async () => {
    const dynamo = await startDynamoLocal();
    try {
      expect(dynamo.loopbackOnly, "keeping DynamoDB Local on 127.0.0.1 needs a JDK's javac").toBe(true);
      const port = Number(new URL(dynamo.endpoint).port);
      if (existsSync("/proc/net/tcp")) {
        // On Linux, the kernel's own word for it.
        const addresses = listeningAddresses(port);
        expect(addresses.length).toBeGreaterThan(0);
        expect(addresses.filter((a) => !isLoopback(a))).toEqual([]);
      }
      const preflight = await fetch(dynamo.endpoint, {
        method: "OPTIONS",
        headers: { origin: "https://example.org", "access-control-request-method": "POST" },
      });
      expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await dynamo.stop();
    }
  });

  it("names a damaged database file at once, and leaves no emulator running", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hlta-damaged-db-"));
    try {
      const dbDir = join(dir, "dynamodb");
      mkdirSync(dbDir);
      writeFileSync(join(dbDir, "shared-local-instance.db"), Buffer.alloc(40_000, 0x5a));
      const started = startDynamoLocal({ dataDir: dbDir });
      await expect(started).rejects.toThrow(
        `the database file in ${dbDir} is damaged (not an SQLite database)`,
      );
      await expect(started).rejects.not.toThrow(/\tat |within 30 s/);
      // Bounded: the kill is sent before the error; the kernel takes a moment to reap it.
      for (let i = 0; i < 50 && processesMentioning(dbDir).length > 0; i += 1) await sleep(100);
      expect(processesMentioning(dbDir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ends when the process that started it is killed outright", async () => {
    const script = join(mkdtempSync(join(tmpdir(), "hlta-parent-")), "parent.mts");
    writeFileSync(
      script,
      `import { startDynamoLocal } from ${JSON.stringify(join(ROOT, "dev/local-services.ts"))};
const d = await startDynamoLocal();
console.log(String(d.pid));
setInterval(() => {}, 1000);`,
    );
    const parent = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const javaPid = await new Promise<number>((resolve, reject) => {
      parent.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      parent.once("exit", (code) => reject(new Error(`the parent exited first (${code})`)));
    });
    expect(alive(javaPid)).toBe(true);
    parent.kill("SIGKILL");
    // Bounded: DynamoDB Local sees its standard input close within a moment of the kill.
    for (let i = 0; i < 100 && alive(javaPid); i += 1) await sleep(100);
    const left = alive(javaPid);
    if (left) process.kill(javaPid, "SIGKILL");
    rmSync(join(script, ".."), { recursive: true, force: true });
    expect(left, "DynamoDB Local outlived the process that started it").toBe(false);
  });
});
