import { randomBytes } from "node:crypto";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoLrsRouteStore } from "../../../adapters/dynamo/lrs-routes.js";
import { DynamoOutboxStore, outboxTransactItems } from "../../../adapters/dynamo/outbox.js";
import { type RunningLrsDouble, startLrsDouble } from "../../../dev/lrs-double/index.js";
import { canonicalJson } from "../../../dev/lrs-double/store.js";
import { type DomainEvent, DomainEventSchema } from "../../../domain/events.js";
import { type AttributeValue, createStreamHandler } from "../../../functions/forwarder/stream.js";
import { type BuiltStatement, buildStatement } from "../../../statements/builders.js";
import { createAesGcmCipher } from "../../../statements/credential-cipher.js";
import {
  type ForwarderEvent,
  type ForwarderPolicy,
  startForwarderLoop,
} from "../../../statements/forwarder.js";
import { createLrsClient } from "../../../statements/lrs-client.js";
import { LrsCredentials, type LrsRoute } from "../../../statements/ports.js";
import { EVENT_INPUTS, SETTINGS } from "../../unit/statements/fixtures.js";
import { dynamoForTests } from "./local-dynamo.js";

let db: Awaited<ReturnType<typeof dynamoForTests>>;
let lrs: RunningLrsDouble;
let outbox: DynamoOutboxStore;
let routes: DynamoLrsRouteStore;

beforeAll(async () => {
  [db, lrs] = await Promise.all([dynamoForTests(), startLrsDouble({ seed: 2025 })]);
  outbox = new DynamoOutboxStore(db.doc, db.tableName);
  routes = new DynamoLrsRouteStore(
    db.doc,
    db.tableName,
    createAesGcmCipher({ current: { kid: "it", key: randomBytes(32) } }),
  );
});
afterAll(async () => {
  await Promise.all([lrs?.stop(), db?.stop()]);
});

function events(n: number, prefix: string): DomainEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const input = EVENT_INPUTS[i % EVENT_INPUTS.length];
    return DomainEventSchema().parse({ ...input, eventId: `${prefix}-${i}` });
  });
}

/** Record statements the way the product does: in one transaction with the change that caused them. */
async function emit(statements: readonly BuiltStatement[], route: LrsRoute): Promise<void> {
  for (let i = 0; i < statements.length; i += 25) {
    const chunk = statements.slice(i, i + 25);
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: db.tableName, Item: { pk: `CHANGE#${chunk[0]?.id}`, sk: "CHANGE" } } },
          ...outboxTransactItems(chunk, [route], { tableName: db.tableName, now: new Date() }),
        ],
      }),
    );
  }
}

async function waitFor(done: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await done()) return true;
    // Not too often: counting is a query, and DynamoDB Local is shared with the forwarder.
    await new Promise((r) => setTimeout(r, 300));
  }
  return done();
}

const FAR_FUTURE = new Date("2100-01-01T00:00:00.000Z");

const FAST: Partial<ForwarderPolicy> = {
  // Long enough for a loaded CI machine to answer a healthy request; the injected hangs last longer.
  requestTimeoutMs: 1_000,
  backoff: { baseMs: 20, capMs: 300 },
  maxAttempts: 60,
  concurrency: 4,
};

describe("delivery while the LRS misbehaves", () => {
  it("delivers every emitted statement exactly as built, and parks only the bad ones with the LRS's answer", async () => {
    const route = await routes.saveRoute({
      scope: { issuer: "https://moodle.fault.example", clientId: "c1" },
      name: "Flaky LRS double",
      endpoint: lrs.endpoint,
      username: "hlta-dev",
      password: "hlta-dev-secret",
    });
    const good = events(500, "fault").map((e) => buildStatement(e, SETTINGS));

    // Planted 1: invalid xAPI (two actor identifiers): a strict LRS rejects it with 400.
    const invalidBase = buildStatement(events(1, "planted-invalid")[0] as DomainEvent, SETTINGS);
    const invalidStatement = JSON.parse(invalidBase.json);
    invalidStatement.actor.mbox = "mailto:second@identifier.example";
    const invalid = { ...invalidBase, json: JSON.stringify(invalidStatement) };
    // Planted 2: the LRS already holds another statement under this id: 409, and a GET shows it
    // differs. Another verb, not another display of it: xAPI Data 2.3.1 makes a Verb's display no
    // part of a statement, so the tool rightly takes a statement differing only there for its own.
    const clash = buildStatement(events(1, "planted-clash")[0] as DomainEvent, SETTINGS);
    const other = JSON.parse(clash.json);
    other.verb.id = "https://lrs.provider.example/verbs/another-verb";
    const direct = createLrsClient({
      endpoint: lrs.endpoint,
      credentials: new LrsCredentials("hlta-dev", "hlta-dev-secret"),
      timeoutMs: 2_000,
    });
    expect(await direct.postStatements([JSON.stringify(other)])).toMatchObject({ status: 200 });

    lrs.faults.set({
      failRate: 0.3,
      failStatuses: [429, 500, 502, 503],
      timeoutRate: 0.05,
      hangMs: 3_000,
      storeBeforeTimeout: true,
      conflictOnIdenticalResend: true,
    });
    const log: ForwarderEvent[] = [];
    const stop = startForwarderLoop({
      intervalMs: 20,
      outbox,
      routes,
      policy: FAST,
      onEvent: (e) => log.push(e),
    });
    try {
      await emit(good.slice(0, 200), route);
      // Down for a stretch: at least three attempts meet closed connections, then it comes back.
      lrs.faults.downFor(60_000);
      await emit([invalid, clash, ...good.slice(200, 350)], route);
      await waitFor(async () => lrs.faults.counters.down >= 3, 15_000);
      lrs.faults.up();
      await emit(good.slice(350), route);
      // Cheap checks first (the double's memory), then one small query for anything still pending.
      const settled = await waitFor(
        async () =>
          good.every((s) => lrs.statements.get(s.id)) &&
          (await outbox.listDue(route.routeId, FAR_FUTURE, 1)).length === 0,
        // Typically 10–20 s; the margin is for a loaded CI machine, not for the forwarder.
        45_000,
      );
      expect(settled).toBe(true);
    } finally {
      await stop();
    }

    // The LRS misbehaved as asked.
    expect(lrs.faults.counters.failed).toBeGreaterThan(5);
    expect(lrs.faults.counters.timedOut).toBeGreaterThan(0);
    expect(lrs.faults.counters.down).toBeGreaterThan(0);

    // delivered = emitted, each exactly as built.
    const backlog = await waitFor(async () => {
      const b = await outbox.backlog(route.routeId);
      return b.delivered === good.length && b.parked === 2;
    }, 5_000);
    expect(backlog).toBe(true);
    for (const s of good) {
      expect(lrs.statements.get(s.id)?.canonical).toBe(canonicalJson(JSON.parse(s.json)));
    }
    // No id was ever sent with two different bodies (the planted clash was the LRS's own, sent first).
    expect(lrs.statements.idsWithSeveralBodies()).toEqual([clash.id]);
    expect(lrs.statements.bodiesReceived(invalid.id)).toBe(1);

    // The parked ones are explained with the LRS's answer.
    const parked = await outbox.listParked(route.routeId, 10);
    const byId = new Map(parked.map((p) => [p.statementId, p.parked]));
    expect(byId.get(invalid.id)).toMatchObject({
      reason: "the LRS rejected the statement as invalid",
      lrsStatus: 400,
    });
    expect(byId.get(invalid.id)?.lrsBody).toContain("IfiCountWarning at statement.actor");
    expect(byId.get(clash.id)).toMatchObject({
      reason: "the LRS holds a different statement with this id",
      lrsStatus: 409,
    });
    expect(byId.size).toBe(2);
    expect(log.some((e) => e.type === "retry")).toBe(true);
  }, 90_000);
});

describe("the stream handler over DynamoDB and the LRS double", () => {
  it("delivers the outbox items of a stream batch and records them as delivered", async () => {
    lrs.faults.reset(3);
    const route = await routes.saveRoute({
      scope: { issuer: "https://moodle.stream.example", clientId: "c1" },
      name: "Stream LRS",
      endpoint: lrs.endpoint,
      username: "hlta-dev",
      password: "hlta-dev-secret",
    });
    const built = events(30, "stream").map((e) => buildStatement(e, SETTINGS));
    await emit(built, route);
    // What DynamoDB Streams would hand over: the items' NEW_IMAGE in DynamoDB JSON.
    const records = await Promise.all(
      built.map(async (s, i) => {
        const out = await db.client.send(
          new GetItemCommand({
            TableName: db.tableName,
            Key: { pk: { S: `OUTBOX#${s.id}` }, sk: { S: `ROUTE#${route.routeId}` } },
          }),
        );
        return {
          eventName: "INSERT",
          dynamodb: { SequenceNumber: String(i), NewImage: out.Item as Record<string, AttributeValue> },
        };
      }),
    );
    const handler = createStreamHandler(() => ({ outbox, routes, policy: FAST }));
    expect(await handler({ Records: records })).toEqual({ batchItemFailures: [] });
    for (const s of built)
      expect(lrs.statements.get(s.id)?.canonical).toBe(canonicalJson(JSON.parse(s.json)));
    const done = await waitFor(
      async () => (await outbox.backlog(route.routeId)).delivered === built.length,
      5_000,
    );
    expect(done).toBe(true);
  });
});
