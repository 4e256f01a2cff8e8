import { describe, expect, it } from "vitest";
import type { UnreadableRow } from "../../../adapters/dynamo/unreadable.js";
import {
  type AttributeValue,
  createStreamHandler,
  createSweepHandler,
  type DynamoDBStreamRecord,
  fromImage,
} from "../../../functions/forwarder/stream.js";
import type { OutboxEntry } from "../../../statements/ports.js";
import { body, FakeLrs, MemoryOutbox, pendingEntry, ROUTE, routeStore } from "./fakes.js";

const NOW = new Date("2025-01-01T00:01:00.000Z");

function toAttribute(value: unknown): AttributeValue {
  if (typeof value === "string") return { S: value };
  if (typeof value === "number") return { N: String(value) };
  if (typeof value === "boolean") return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(toAttribute) };
  if (value && typeof value === "object") {
    return { M: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toAttribute(v)])) };
  }
  return { NULL: true };
}

function record(
  entry: OutboxEntry,
  sequence: string,
  pk = `OUTBOX#${entry.statementId}`,
): DynamoDBStreamRecord {
  const item = { pk, sk: `ROUTE#${entry.routeId}`, ...entry };
  return {
    eventName: "INSERT",
    dynamodb: {
      SequenceNumber: sequence,
      NewImage: Object.fromEntries(Object.entries(item).map(([k, v]) => [k, toAttribute(v)])),
    },
  };
}

describe("the DynamoDB Streams handler", () => {
  it("reads DynamoDB JSON images", () => {
    expect(
      fromImage({
        a: { S: "x" },
        b: { N: "2.5" },
        c: { BOOL: false },
        d: { L: [{ S: "y" }] },
        e: { NULL: true },
      }),
    ).toEqual({ a: "x", b: 2.5, c: false, d: ["y"], e: null });
  });

  it("delivers pending outbox records and ignores other items and other statuses", async () => {
    const outbox = new MemoryOutbox();
    const lrs = new FakeLrs();
    const a = pendingEntry("a", body("a"));
    const b = pendingEntry("b", body("b"));
    for (const e of [a, b]) outbox.add(e);
    const handler = createStreamHandler(
      () => ({ outbox, routes: routeStore(), clientFor: () => lrs, now: () => NOW }),
      { now: () => NOW },
    );
    const result = await handler({
      Records: [
        record(a, "1"),
        record({ ...b, status: "delivered" }, "2"),
        record(b, "3", "T#tenant#C#course"),
        { eventName: "REMOVE", dynamodb: { SequenceNumber: "4" } },
      ],
    });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(lrs.posts).toEqual([[body("a")]]);
    expect(outbox.byStatus("delivered").map((e) => e.statementId)).toEqual(["a"]);
  });

  it("skips an outbox item it cannot read, without a retry, and reports it by its keys", async () => {
    const outbox = new MemoryOutbox();
    const lrs = new FakeLrs();
    const good = pendingEntry("a", body("a"));
    outbox.add(good);
    const seen: UnreadableRow[] = [];
    const handler = createStreamHandler(
      () => ({ outbox, routes: routeStore(), clientFor: () => lrs, now: () => NOW }),
      { now: () => NOW, onUnreadable: (row) => seen.push(row) },
    );
    // A pending item without its body (a hand edit, another version's row).
    const { body: _dropped, ...bodiless } = pendingEntry("b", body("b"));
    const result = await handler({
      Records: [record(bodiless as OutboxEntry, "1"), record(good, "2")],
    });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(lrs.posts).toEqual([[body("a")]]);
    expect(seen).toEqual([
      {
        pk: "OUTBOX#b",
        sk: `ROUTE#${good.routeId}`,
        reading: "xAPI statements from the stream",
        issues: [expect.objectContaining({ path: "body" })],
      },
    ]);
  });

  it("leaves a retry that is far from due to the sweep", async () => {
    const outbox = new MemoryOutbox();
    const lrs = new FakeLrs();
    const later = { ...pendingEntry("c", body("c")), attempts: 3, nextAttemptAt: "2025-01-01T01:00:00.000Z" };
    outbox.add(later);
    const handler = createStreamHandler(() => ({ outbox, routes: routeStore(), clientFor: () => lrs }), {
      now: () => NOW,
      maxWaitMs: 1_000,
    });
    expect(await handler({ Records: [record(later, "9")] })).toEqual({ batchItemFailures: [] });
    expect(lrs.posts).toEqual([]);
  });

  it("returns the records whose outcome could not be recorded, for Lambda to retry", async () => {
    const outbox = new MemoryOutbox();
    outbox.markDelivered = async () => {
      throw new Error("ProvisionedThroughputExceededException");
    };
    const lrs = new FakeLrs();
    const d = pendingEntry("d", body("d"));
    const e = pendingEntry("e", body("e"));
    const handler = createStreamHandler(() => ({ outbox, routes: routeStore(), clientFor: () => lrs }), {
      now: () => NOW,
    });
    const result = await handler({ Records: [record(d, "11"), record(e, "12")] });
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(["11", "12"]);
  });

  it("waits for an almost-due retry only when the invocation has time for it, else leaves it to the sweep", async () => {
    const outbox = new MemoryOutbox();
    const lrs = new FakeLrs();
    // Due in 5 s: within maxWaitMs, but the invocation has 20 s left, 15 of them kept for writes.
    const soon = { ...pendingEntry("s", body("s")), attempts: 1, nextAttemptAt: "2025-01-01T00:01:05.000Z" };
    outbox.add(soon);
    const handler = createStreamHandler(() => ({ outbox, routes: routeStore(), clientFor: () => lrs }), {
      now: () => NOW,
    });
    const started = Date.now();
    const result = await handler(
      { Records: [record(soon, "21")] },
      { getRemainingTimeInMillis: () => 20_000 },
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(lrs.posts).toEqual([]);
    expect(outbox.byStatus("pending").map((e) => e.attempts)).toEqual([1]);
  });

  it("starts no round in a sweep without time left for one", async () => {
    const outbox = new MemoryOutbox();
    const lrs = new FakeLrs();
    outbox.add(pendingEntry("w", body("w")));
    const sweep = createSweepHandler(() => ({
      outbox,
      routes: routeStore(),
      clientFor: () => lrs,
      now: () => NOW,
    }));
    expect(await sweep(undefined, { getRemainingTimeInMillis: () => 10_000 })).toEqual({
      delivered: 0,
      parked: 0,
      retried: 0,
    });
    expect(lrs.posts).toEqual([]);
    expect(await sweep(undefined, { getRemainingTimeInMillis: () => 60_000 })).toMatchObject({
      delivered: 1,
    });
  });

  it("takes an item's newest image from a batch, so a replay's fresh attempts are not lost to an older retry", async () => {
    const outbox = new MemoryOutbox();
    const lrs = new FakeLrs();
    // The older record: a retry with 23 attempts; the newer: the admin's replay, attempts reset.
    const retried = {
      ...pendingEntry("r", body("r")),
      attempts: 23,
      nextAttemptAt: "2025-01-01T00:00:30.000Z",
    };
    const replayed = { ...pendingEntry("r", body("r")), attempts: 0 };
    outbox.add(replayed);
    const seen: OutboxEntry[][] = [];
    const handler = createStreamHandler(
      () => ({
        outbox,
        routes: routeStore(),
        clientFor: () => lrs,
        now: () => NOW,
        onEvent: () => {},
      }),
      { now: () => NOW },
    );
    const forward = outbox.markDelivered.bind(outbox);
    outbox.markDelivered = async (entries, at) => {
      seen.push(entries.map((e) => ({ ...e })));
      return forward(entries, at);
    };
    // Sequence numbers past 2^53: compared as numbers, not text or floats.
    await handler({
      Records: [record(retried, "99999999999999999999998"), record(replayed, "99999999999999999999999")],
    });
    expect(seen.flat().map((e) => e.attempts)).toEqual([0]);
  });

  it("sweeps every other route when one route fails, and says which", async () => {
    const outbox = new MemoryOutbox();
    const lrs = new FakeLrs();
    const good = { ...ROUTE, routeId: "route-good" };
    const broken = { ...ROUTE, routeId: "route-broken" };
    outbox.add(pendingEntry("g", body("g"), "route-good"));
    const events: { type: string; routeId?: string }[] = [];
    const routes = routeStore([broken, good]);
    const sweep = createSweepHandler(() => ({
      outbox,
      routes: {
        ...routes,
        getRouteWithCredentials: async (routeId: string) => {
          if (routeId === "route-broken")
            throw new Error("The LRS credentials were sealed with a key this tool does not have.");
          return routes.getRouteWithCredentials(routeId);
        },
      },
      clientFor: () => lrs,
      now: () => NOW,
      onEvent: (e) => events.push(e),
    }));
    outbox.add(pendingEntry("b", body("b"), "route-broken"));
    expect(await sweep(undefined, { getRemainingTimeInMillis: () => 60_000 })).toMatchObject({
      delivered: 1,
    });
    expect(outbox.byStatus("delivered").map((e) => e.statementId)).toEqual(["g"]);
    expect(events).toContainEqual(expect.objectContaining({ type: "round_failed", routeId: "route-broken" }));
  });
});
