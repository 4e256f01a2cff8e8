import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { acquireStartLock, type ProcessProbe } from "../../../dev/start-lock.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), "hlta-lock-"));
  dirs.push(d);
  return d;
};

/** A process table: pid → command line; kill removes on SIGTERM and writes down what it sent. */
function processes(table: Record<number, string>) {
  const sent: [number, NodeJS.Signals][] = [];
  const probe: ProcessProbe = {
    commandOf: (pid) => table[pid],
    kill(pid, signal) {
      if (table[pid] === undefined) throw Object.assign(new Error("no such process"), { code: "ESRCH" });
      sent.push([pid, signal]);
      delete table[pid];
    },
  };
  return { probe, sent };
}

describe("one npm start per data folder", () => {
  it("refuses a second start while the first runs, naming the first's process", async () => {
    const dir = dataDir();
    const { probe } = processes({
      100: "node --import tsx dev/start.ts",
      200: "node --import tsx dev/start.ts",
    });
    const first = await acquireStartLock(dir, { pid: 100, probe });
    expect(first.held).toBe(true);
    expect(await acquireStartLock(dir, { pid: 200, probe })).toEqual({ held: false, holderPid: 100 });
  });

  it("lets exactly one of two starts at the same moment have the folder", async () => {
    const dir = dataDir();
    const { probe } = processes({ 1: "dev/start.ts", 2: "dev/start.ts", 3: "dev/start.ts" });
    const results = await Promise.all([1, 2, 3].map((pid) => acquireStartLock(dir, { pid, probe })));
    expect(results.filter((r) => r.held)).toHaveLength(1);
  });

  it("takes the folder after a stop that released it", async () => {
    const dir = dataDir();
    const { probe } = processes({ 100: "dev/start.ts", 200: "dev/start.ts" });
    const first = await acquireStartLock(dir, { pid: 100, probe });
    if (!first.held) throw new Error("first start did not get the lock");
    first.lock.release();
    expect((await acquireStartLock(dir, { pid: 200, probe })).held).toBe(true);
  });

  it("after a start killed outright, stops the DynamoDB Local it left and takes the folder", async () => {
    const dir = dataDir();
    const table: Record<number, string> = { 100: "dev/start.ts", 200: "dev/start.ts" };
    const { probe, sent } = processes(table);
    const first = await acquireStartLock(dir, { pid: 100, probe });
    if (!first.held) throw new Error("first start did not get the lock");
    table[101] = "java -cp … LoopbackDynamoDBLocal -port 41000 -dbPath .data/dynamodb";
    first.lock.recordDynamo(101);
    delete table[100]; // kill -9: no release
    const second = await acquireStartLock(dir, { pid: 200, probe });
    expect(second).toMatchObject({ held: true, stoppedLeftOver: { dynamoPid: 101 } });
    expect(sent).toEqual([[101, "SIGTERM"]]);
    expect(JSON.parse(readFileSync(join(dir, "start.lock"), "utf8"))).toEqual({ pid: 200 });
  });

  it("does not take a reused process id for the tool or its emulator", async () => {
    const dir = dataDir();
    // After a reboot, the recorded pids run something else: nothing is refused, nothing killed.
    writeFileSync(join(dir, "start.lock"), JSON.stringify({ pid: 100, dynamoPid: 101 }));
    const { probe, sent } = processes({ 100: "/usr/sbin/cron", 101: "bash", 200: "dev/start.ts" });
    const result = await acquireStartLock(dir, { pid: 200, probe });
    expect(result.held).toBe(true);
    expect(result).not.toHaveProperty("stoppedLeftOver");
    expect(sent).toEqual([]);
  });

  it("takes over a lock file left half-written", async () => {
    const dir = dataDir();
    writeFileSync(join(dir, "start.lock"), '{"pid":');
    const { probe } = processes({ 200: "dev/start.ts" });
    expect((await acquireStartLock(dir, { pid: 200, probe })).held).toBe(true);
  });
});
