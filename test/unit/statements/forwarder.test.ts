import { describe, expect, it } from "vitest";
import {
  deliverBatch,
  drainRoute,
  forwardEntries,
  startForwarderLoop,
} from "../../../statements/forwarder.js";
import { createLrsClient } from "../../../statements/lrs-client.js";
import { neverAnswers } from "../../support/never-answers.js";
import { body, FakeLrs, MemoryOutbox, pendingEntry, ROUTE, routeStore } from "./fakes.js";

const NOW = new Date("2025-01-01T00:01:00.000Z");

function entries(n: number, bad: number[] = []) {
  return Array.from({ length: n }, (_, i) => {
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    return pendingEntry(id, body(id, bad.includes(i) ? "bad" : "ok"));
  });
}

describe("deliverBatch", () => {
  it("delivers a whole batch in one request when the LRS accepts it", async () => {
    const lrs = new FakeLrs();
    const outcomes = await deliverBatch(entries(50), lrs);
    expect(outcomes.map((o) => o.kind)).toEqual(Array(50).fill("delivered"));
    expect(lrs.posts).toHaveLength(1);
  });

  it("splits a batch rejected with 400 to park only the invalid statement, with the LRS's answer", async () => {
    const lrs = new FakeLrs();
    const batch = entries(50, [37]);
    const outcomes = await deliverBatch(batch, lrs);
    expect(outcomes.filter((o) => o.kind === "delivered")).toHaveLength(49);
    const parked = outcomes.filter((o) => o.kind === "parked");
    expect(parked).toEqual([
      {
        kind: "parked",
        entry: batch[37],
        reason: "the LRS rejected the statement as invalid",
        lrsStatus: 400,
        lrsBody: '{"message":"invalid statement"}',
      },
    ]);
    // Halving finds one culprit among 50 in at most 1 + 2·⌈log2 50⌉ requests.
    expect(lrs.posts.length).toBeLessThanOrEqual(13);
    expect([...lrs.stored.keys()]).toHaveLength(49);
  });

  it("settles a 409 statement by statement: what the LRS holds identically is delivered, the rest resent", async () => {
    const lrs = new FakeLrs();
    lrs.conflictOnIdenticalResend = true;
    const batch = entries(4);
    await deliverBatch(batch.slice(0, 2), lrs);
    const outcomes = await deliverBatch(batch, lrs);
    expect(outcomes.map((o) => o.kind)).toEqual(["delivered", "delivered", "delivered", "delivered"]);
    // Every id is looked up once; only the two the LRS does not hold are sent again.
    expect(lrs.gets).toEqual(batch.map((e) => e.statementId));
    expect(lrs.posts.slice(1)).toEqual([batch.map((e) => e.body), batch.slice(2).map((e) => e.body)]);
  });

  it("parks a statement whose id the LRS holds with a different body, and delivers the rest", async () => {
    const lrs = new FakeLrs();
    const batch = entries(3);
    const clash = batch[1];
    if (!clash) throw new Error("fixture");
    lrs.stored.set(clash.statementId, body(clash.statementId, "someone-else"));
    const outcomes = await deliverBatch(batch, lrs);
    expect(outcomes.map((o) => o.kind)).toEqual(["delivered", "parked", "delivered"]);
    expect(outcomes[1]).toMatchObject({
      reason: "the LRS holds a different statement with this id",
      lrsStatus: 409,
      lrsBody: '{"message":"conflict"}',
    });
  });

  it("finds a 409's culprit by halving when the route's key may not read statements, and says why it is parked", async () => {
    const lrs = new FakeLrs();
    lrs.readForbidden = true;
    const batch = entries(6);
    const clash = batch[4];
    if (!clash) throw new Error("fixture");
    lrs.stored.set(clash.statementId, body(clash.statementId, "someone-else"));
    const outcomes = await deliverBatch(batch, lrs);
    expect(outcomes.map((o) => o.kind)).toEqual([
      "delivered",
      "delivered",
      "delivered",
      "delivered",
      "parked",
      "delivered",
    ]);
    expect(outcomes[4]).toMatchObject({
      reason: expect.stringContaining("does not let the route's key read statements"),
      lrsStatus: 409,
    });
  });

  it("takes a 200 at its word for statements it did not list when the key may not read them", async () => {
    // A batch whose answer was lost, sent again to an LRS that lists only what it inserted.
    const lrs = new FakeLrs();
    lrs.listsOnlyInserted = true;
    lrs.readForbidden = true;
    const batch = entries(6);
    await deliverBatch(batch.slice(0, 5), lrs);
    const outcomes = await deliverBatch(batch, lrs);
    expect(outcomes.map((o) => o.kind)).toEqual(Array(6).fill("delivered"));
    expect(lrs.gets).toEqual(batch.slice(0, 5).map((e) => e.statementId));
  });

  it("counts a 2xx as delivered only with the ids it stored, or as a 204", async () => {
    const ids = (n: number) => JSON.stringify(entries(n).map((e) => e.statementId));
    for (const [answer, kind] of [
      [{ kind: "response", status: 204, body: "" }, "delivered"],
      [{ kind: "response", status: 202, body: ids(3) }, "delivered"],
      [{ kind: "response", status: 202, body: "" }, "retry"],
      [{ kind: "response", status: 201, body: "Created" }, "retry"],
    ] as const) {
      const lrs = new FakeLrs();
      lrs.script.push(answer);
      const outcomes = await deliverBatch(entries(3), lrs);
      expect(
        outcomes.map((o) => o.kind),
        `${answer.status} ${answer.body}`,
      ).toEqual(Array(3).fill(kind));
    }
  });

  it("keeps everything pending, without splitting, on 429, 5xx, timeouts and refused connections", async () => {
    for (const answer of [
      { kind: "response", status: 429, body: "slow down", retryAfterMs: 2000 },
      { kind: "response", status: 503, body: "" },
      { kind: "network", reason: "timeout", message: "the LRS did not answer in time" },
      { kind: "network", reason: "refused", message: "the LRS refused the connection" },
    ] as const) {
      const lrs = new FakeLrs();
      lrs.script.push(answer);
      const outcomes = await deliverBatch(entries(10), lrs);
      expect(outcomes.map((o) => o.kind)).toEqual(Array(10).fill("retry"));
      expect(lrs.posts).toHaveLength(1);
    }
  });

  it("carries the LRS's Retry-After into the retry", async () => {
    const lrs = new FakeLrs();
    lrs.script.push({ kind: "response", status: 429, body: "", retryAfterMs: 2000 });
    const [outcome] = await deliverBatch(entries(1), lrs);
    expect(outcome).toMatchObject({ kind: "retry", retryAfterMs: 2000, error: "the LRS answered 429" });
  });

  it("parks a lone statement the LRS finds too large (413)", async () => {
    const lrs = new FakeLrs();
    lrs.script.push({ kind: "response", status: 413, body: "too big" });
    const [outcome] = await deliverBatch(entries(1), lrs);
    expect(outcome).toMatchObject({
      kind: "parked",
      reason: "the statement is larger than the LRS accepts",
      lrsStatus: 413,
    });
  });

  it("retries (does not park) on 401: the route's credentials are a configuration problem", async () => {
    const lrs = new FakeLrs();
    lrs.script.push({ kind: "response", status: 401, body: "bad credentials" });
    const outcomes = await deliverBatch(entries(3), lrs);
    expect(outcomes.map((o) => o.kind)).toEqual(["retry", "retry", "retry"]);
  });
});

describe("forwardEntries and drainRoute", () => {
  const clientFor = (lrs: FakeLrs) => () => lrs;

  it("ends a round within its budget, however slowly the LRS answers, with every outcome written", async () => {
    const outbox = new MemoryOutbox();
    for (const e of entries(3)) outbox.add(e);
    // An LRS that never answers: only the round's budget ends its requests.
    const started = Date.now();
    const result = await drainRoute("route-1", {
      outbox,
      routes: routeStore(),
      clientFor: (route, policy, budget) =>
        createLrsClient({
          endpoint: route.endpoint,
          credentials: route.credentials,
          timeoutMs: policy.requestTimeoutMs,
          signal: budget,
          fetch: neverAnswers,
        }),
      now: () => NOW,
      policy: { roundBudgetMs: 150, requestTimeoutMs: 60_000 },
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result).toMatchObject({ delivered: 0, retried: 3 });
    expect(outbox.byStatus("pending").map((e) => e.attempts)).toEqual([1, 1, 1]);
  });

  it("marks delivered entries in the outbox and records a failed attempt with a bounded back-off", async () => {
    const outbox = new MemoryOutbox();
    for (const e of entries(3)) outbox.add(e);
    const lrs = new FakeLrs();
    lrs.script.push({ kind: "response", status: 503, body: "" });
    const deps = {
      outbox,
      routes: routeStore(),
      clientFor: clientFor(lrs),
      now: () => NOW,
      random: () => 0.999,
      policy: { backoff: { baseMs: 1000, capMs: 60_000 } },
    };
    const first = await drainRoute("route-1", deps);
    expect(first).toMatchObject({ delivered: 0, retried: 3, fullPage: false });
    expect(outbox.byStatus("pending").map((e) => [e.attempts, e.nextAttemptAt, e.lastError])).toEqual(
      Array(3).fill([1, "2025-01-01T00:01:00.999Z", "the LRS answered 503"]),
    );
    const second = await drainRoute("route-1", { ...deps, now: () => new Date("2025-01-01T00:01:01.000Z") });
    expect(second).toMatchObject({ delivered: 3, retried: 0 });
    expect(outbox.byStatus("delivered")).toHaveLength(3);
  });

  it("parks with a plain reason after the last allowed attempt, once it has kept trying long enough", async () => {
    const outbox = new MemoryOutbox();
    const [entry] = entries(1);
    if (!entry) throw new Error("fixture");
    // Recorded three days and a minute before NOW.
    outbox.add({ ...entry, attempts: 4, createdAt: "2024-12-29T00:00:00.000Z" });
    const lrs = new FakeLrs();
    lrs.script.push({ kind: "network", reason: "refused", message: "the LRS refused the connection" });
    await drainRoute("route-1", {
      outbox,
      routes: routeStore(),
      clientFor: clientFor(lrs),
      now: () => NOW,
      policy: { maxAttempts: 5 },
    });
    expect(outbox.byStatus("parked").map((e) => [e.attempts, e.parked?.reason])).toEqual([
      [5, "gave up after 5 attempts over 3 days; last: the LRS refused the connection"],
    ]);
  });

  it("never puts the LRS's answer in its events (logs), only in the outbox for the admin page", async () => {
    const outbox = new MemoryOutbox();
    const [fresh, old] = entries(2);
    if (!fresh || !old) throw new Error("fixture");
    outbox.add(fresh);
    outbox.add({ ...old, attempts: 4, createdAt: "2024-12-29T00:00:00.000Z" });
    const lrs = new FakeLrs();
    // An LRS that quotes the statement back in its error, email address and all.
    const echo = 'actor.mbox "mailto:sam.jones@school.example" is not allowed here';
    lrs.script.push({ kind: "response", status: 401, body: echo });
    const events: unknown[] = [];
    await drainRoute("route-1", {
      outbox,
      routes: routeStore(),
      clientFor: clientFor(lrs),
      now: () => NOW,
      policy: { maxAttempts: 5 },
      onEvent: (event) => events.push(event),
    });
    expect(events.map((e) => (e as { type: string }).type).sort()).toEqual(["parked", "retry"]);
    expect(JSON.stringify(events)).not.toContain("sam.jones");
    expect(JSON.stringify(events)).toContain("the LRS answered 401");
    expect(outbox.byStatus("parked")[0]?.parked?.reason).toContain("sam.jones");
    expect(outbox.byStatus("pending")[0]?.lastError).toContain("sam.jones");
  });

  it("keeps trying through an outage of hours, however many attempts it took, and counts a replay afresh", async () => {
    const outbox = new MemoryOutbox();
    const [a, b] = entries(2);
    if (!a || !b) throw new Error("fixture");
    // Past the attempts, but failing for an hour: an LRS down for maintenance, a route fixed later.
    outbox.add({ ...a, attempts: 40, createdAt: "2024-12-31T23:00:00.000Z" });
    // Recorded long ago, replayed by an administrator an hour ago: its time counts from then.
    outbox.add({
      ...b,
      attempts: 40,
      createdAt: "2024-12-01T00:00:00.000Z",
      replayedAt: "2024-12-31T23:00:00.000Z",
    });
    const lrs = new FakeLrs();
    lrs.script.push({ kind: "response", status: 503, body: "maintenance" });
    const result = await drainRoute("route-1", {
      outbox,
      routes: routeStore(),
      clientFor: clientFor(lrs),
      now: () => NOW,
      policy: { maxAttempts: 24 },
    });
    expect(result).toMatchObject({ parked: 0, retried: 2 });
    expect(outbox.byStatus("pending").map((e) => e.attempts)).toEqual([41, 41]);
  });

  it("parks entries whose route was removed", async () => {
    const outbox = new MemoryOutbox();
    const result = await forwardEntries("gone", entries(1), {
      outbox,
      routes: routeStore([]),
      now: () => NOW,
    });
    expect(result.parked).toBe(1);
  });

  it("does not send to a disabled route", async () => {
    const lrs = new FakeLrs();
    const outbox = new MemoryOutbox();
    const result = await forwardEntries("route-1", entries(2), {
      outbox,
      routes: routeStore([{ ...ROUTE, enabled: false }]),
      clientFor: clientFor(lrs),
    });
    expect(result).toEqual({ delivered: 0, parked: 0, retried: 0 });
    expect(lrs.posts).toHaveLength(0);
  });

  it("stops sending further batches to a route once one answers transiently", async () => {
    const lrs = new FakeLrs();
    lrs.script.push({ kind: "response", status: 502, body: "" });
    const outbox = new MemoryOutbox();
    const list = entries(200);
    for (const e of list) outbox.add(e);
    const result = await forwardEntries("route-1", list, {
      outbox,
      routes: routeStore(),
      clientFor: clientFor(lrs),
      now: () => NOW,
      policy: { concurrency: 1 },
    });
    expect(lrs.posts).toHaveLength(1);
    expect(result).toMatchObject({ delivered: 0, retried: 50 });
    expect(result.routeUnwell).toBeDefined();
  });
});

describe("startForwarderLoop", () => {
  it("delivers what is due and stops when asked", async () => {
    const outbox = new MemoryOutbox();
    for (const e of entries(120)) outbox.add(e);
    const lrs = new FakeLrs();
    const stop = startForwarderLoop({ intervalMs: 5, outbox, routes: routeStore(), clientFor: () => lrs });
    const deadline = Date.now() + 5_000;
    while (outbox.byStatus("delivered").length < 120 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await stop();
    expect(outbox.byStatus("delivered")).toHaveLength(120);
    expect(lrs.posts.map((p) => p.length)).toEqual([50, 50, 20]);
  });
});
