import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
    const record = JSON.parse(readFileSync(join(dir, "start.lock"), "utf8"));
    expect(record).toMatchObject({ pid: 200 });
    expect(record).not.toHaveProperty("dynamoPid");
  });

  it("lets one start only take over a dead start's lock, even while the emulator it left takes time to stop", async () => {
    const dir = dataDir();
    writeFileSync(join(dir, "start.lock"), JSON.stringify({ pid: 100, dynamoPid: 101 }));
    // The leftover emulator takes a few polls to close its database after SIGTERM.
    let polls = 0;
    const probe: ProcessProbe = {
      commandOf(pid) {
        if (pid === 101) return polls++ < 4 ? "java … DynamoDBLocal" : undefined;
        return pid === 200 || pid === 300 ? "node dev/start.ts" : undefined;
      },
      kill() {},
    };
    const results = await Promise.all([200, 300].map((pid) => acquireStartLock(dir, { pid, probe })));
    expect(results.filter((r) => r.held)).toHaveLength(1);
    const holder = JSON.parse(readFileSync(join(dir, "start.lock"), "utf8")).pid;
    expect(results[holder === 200 ? 1 : 0]).toEqual({ held: false, holderPid: holder });
  });

  it("takes over a lock naming its own process id (a container's start has the same pid every time)", async () => {
    const dir = dataDir();
    writeFileSync(join(dir, "start.lock"), JSON.stringify({ pid: 200 }));
    const { probe } = processes({ 200: "node --import tsx dev/start.ts" });
    expect((await acquireStartLock(dir, { pid: 200, probe })).held).toBe(true);
  });

  it("leaves alone a lock that another start has made since, on release and on recording its emulator", async () => {
    const dir = dataDir();
    const { probe } = processes({ 100: "dev/start.ts", 200: "dev/start.ts" });
    const first = await acquireStartLock(dir, { pid: 100, probe });
    if (!first.held) throw new Error("first start did not get the lock");
    // Someone removed the first start's lock by hand, and a second start took the folder.
    rmSync(join(dir, "start.lock"));
    const second = await acquireStartLock(dir, { pid: 200, probe });
    expect(second.held).toBe(true);
    const before = readFileSync(join(dir, "start.lock"), "utf8");
    first.lock.recordDynamo(101);
    first.lock.release();
    expect(readFileSync(join(dir, "start.lock"), "utf8")).toBe(before);
  });

  it("never leaves its working files in the data folder", async () => {
    const dir = dataDir();
    writeFileSync(join(dir, "start.lock"), JSON.stringify({ pid: 100 }));
    const { probe } = processes({ 200: "dev/start.ts" });
    const result = await acquireStartLock(dir, { pid: 200, probe });
    if (!result.held) throw new Error("no lock");
    result.lock.recordDynamo(201);
    expect(readdirSync(dir)).toEqual(["start.lock"]);
    expect(JSON.parse(readFileSync(join(dir, "start.lock"), "utf8"))).toMatchObject({
      pid: 200,
      dynamoPid: 201,
    });
    result.lock.release();
    expect(readdirSync(dir)).toEqual([]);
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
