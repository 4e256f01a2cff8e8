import { randomBytes } from "node:crypto";
import { GetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoLrsRouteStore } from "../../../adapters/dynamo/lrs-routes.js";
import { DynamoOutboxStore, outboxTransactItems } from "../../../adapters/dynamo/outbox.js";
import { createXapiAdminRoutes } from "../../../functions/admin/routes/xapi.js";
import { buildStatement } from "../../../statements/builders.js";
import { createAesGcmCipher } from "../../../statements/credential-cipher.js";
import { InvalidLrsRouteError } from "../../../statements/errors.js";
import { removeRouteWhenQuiet } from "../../../statements/route-removal.js";
import { EVENTS, eventOfType, SETTINGS } from "../../unit/statements/fixtures.js";
import { dynamoForTests } from "./local-dynamo.js";

let db: Awaited<ReturnType<typeof dynamoForTests>>;
let outbox: DynamoOutboxStore;
let routes: DynamoLrsRouteStore;
const cipher = createAesGcmCipher({ current: { kid: "test-1", key: randomBytes(32) } });

beforeAll(async () => {
  db = await dynamoForTests();
  outbox = new DynamoOutboxStore(db.doc, db.tableName);
  routes = new DynamoLrsRouteStore(db.doc, db.tableName, cipher);
});
afterAll(async () => {
  await db?.stop();
});

/** gsi1 is eventually consistent (immediately so on DynamoDB Local, but never rely on it). */
async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("the outbox in one transaction with the change that caused it", () => {
  it("commits the change and its statements together, and a recorded event cannot be recorded twice", async () => {
    const built = buildStatement(eventOfType("launched"), SETTINGS);
    const now = new Date("2025-03-04T08:15:31.000Z");
    const change = {
      Put: { TableName: db.tableName, Item: { pk: "T#t#C#c", sk: "ENROLMENT#user-7", role: "candidate" } },
    };
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          change,
          ...outboxTransactItems([built], [{ routeId: "tx-route" }], { tableName: db.tableName, now }),
        ],
      }),
    );
    const stored = await db.doc.send(
      new GetCommand({ TableName: db.tableName, Key: { pk: `OUTBOX#${built.id}`, sk: "ROUTE#tx-route" } }),
    );
    expect(stored.Item?.body).toBe(built.json);
    const again = db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          change,
          ...outboxTransactItems([built], [{ routeId: "tx-route" }], { tableName: db.tableName, now }),
        ],
      }),
    );
    await expect(again).rejects.toMatchObject({
      name: "TransactionCanceledException",
      CancellationReasons: [{ Code: "None" }, { Code: "ConditionalCheckFailed" }],
    });
  });
});

describe("the outbox store", () => {
  // Recent, not a fixed date: a delivered item expires (TTL) `deliveredRetentionDays` after it
  // was delivered, and DynamoDB Local deletes expired items, so a fixed date in the past made the
  // delivered one vanish before it was counted, now and then.
  const t0 = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
  const built = EVENTS.map((e) => buildStatement(e, SETTINGS));

  it("lists due entries oldest first, moves them through retry, park and replay, and counts them", async () => {
    const route = "store-route";
    for (const [i, s] of built.entries()) {
      const items = outboxTransactItems([s], [{ routeId: route }], {
        tableName: db.tableName,
        now: new Date(t0.getTime() + i * 1000),
      });
      await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
    }
    const due = await outbox.listDue(route, new Date(t0.getTime() + 2_000), 100);
    expect(due.map((e) => e.statementId)).toEqual(built.slice(0, 3).map((s) => s.id));
    expect(due[0]?.body).toBe(built[0]?.json);

    const [first, second, third] = due;
    if (!first || !second || !third) throw new Error("fixture");
    await outbox.markDelivered([first], t0);
    await outbox.reschedule([
      { entry: second, attempts: 1, nextAttemptAt: new Date(t0.getTime() + 60_000), lastError: "503" },
    ]);
    await outbox.park(third, {
      reason: "the LRS rejected the statement as invalid",
      lrsStatus: 400,
      lrsBody: '{"error":"bad"}',
      parkedAt: t0.toISOString(),
      attempts: 1,
    });

    const later = await eventually(
      () => outbox.listDue(route, new Date(t0.getTime() + 30_000), 100),
      (list) => list.length === built.length - 3,
    );
    expect(later.map((e) => e.statementId)).not.toContain(second.statementId);
    const backlog = await eventually(
      () => outbox.backlog(route),
      (b) => b.delivered === 1 && b.parked === 1,
    );
    expect(backlog).toEqual({
      pending: built.length - 2,
      delivered: 1,
      parked: 1,
      capped: false,
      lastFailure: {
        error: "503",
        attempts: 1,
        nextAttemptAt: new Date(t0.getTime() + 60_000).toISOString(),
      },
    });

    const parked = await outbox.listParked(route, 10);
    expect(parked).toHaveLength(1);
    expect(parked[0]?.parked).toEqual({
      reason: "the LRS rejected the statement as invalid",
      lrsStatus: 400,
      lrsBody: '{"error":"bad"}',
      parkedAt: t0.toISOString(),
    });

    expect(await outbox.replayParked(route, third.statementId, t0)).toBe(true);
    expect(await outbox.replayParked(route, third.statementId, t0)).toBe(false);
    const replayed = await db.doc.send(
      new GetCommand({
        TableName: db.tableName,
        Key: { pk: `OUTBOX#${third.statementId}`, sk: `ROUTE#${route}` },
      }),
    );
    expect(replayed.Item).toMatchObject({
      status: "pending",
      attempts: 0,
      lastError: "the LRS rejected the statement as invalid",
      gsi1pk: `OUTBOX#${route}#pending`,
    });
    expect(replayed.Item?.parkedReason).toBeUndefined();

    // A replayed entry that fails again keeps its replay time: the forwarder counts its days of
    // trying from it, not from when the statement was recorded.
    const [again] = (await outbox.listDue(route, new Date(t0.getTime() + 30_000), 100)).filter(
      (e) => e.statementId === third.statementId,
    );
    expect(again?.replayedAt).toBe(t0.toISOString());
    if (!again) throw new Error("the replayed entry is not due");
    await outbox.reschedule([
      { entry: again, attempts: 1, nextAttemptAt: new Date(t0.getTime() + 5_000), lastError: "503" },
    ]);
    const rescheduled = await db.doc.send(
      new GetCommand({
        TableName: db.tableName,
        Key: { pk: `OUTBOX#${third.statementId}`, sk: `ROUTE#${route}` },
      }),
    );
    expect(rescheduled.Item).toMatchObject({ attempts: 1, replayedAt: t0.toISOString() });
  });
});

describe("the LRS route store", () => {
  const platform = { issuer: "https://moodle.route.example", clientId: "client-9" };

  it("never stores credentials in plain text, and opens them for the forwarder", async () => {
    const route = await routes.saveRoute({
      scope: platform,
      name: "Provider LRS",
      endpoint: "https://lrs.provider.example/xapi/",
      username: "lrs-key-123",
      password: "very-secret-pw",
    });
    const raw = await db.doc.send(
      new GetCommand({ TableName: db.tableName, Key: { pk: `LRSROUTE#${route.routeId}`, sk: "ROUTE" } }),
    );
    expect(JSON.stringify(raw.Item)).not.toContain("very-secret-pw");
    expect(JSON.stringify(raw.Item)).not.toContain("lrs-key-123");
    const opened = await routes.getRouteWithCredentials(route.routeId);
    expect(opened?.credentials.reveal()).toEqual({ username: "lrs-key-123", password: "very-secret-pw" });
    expect(JSON.stringify(opened)).not.toContain("very-secret-pw");
  });

  it("refuses an endpoint that is not https", async () => {
    await expect(
      routes.saveRoute({
        scope: platform,
        name: "x",
        endpoint: "http://lrs.example/",
        username: "a",
        password: "b",
      }),
    ).rejects.toBeInstanceOf(InvalidLrsRouteError);
  });

  it("resolves a tenant: deployment routes and settings override the platform's", async () => {
    // Key separators inside the parts ('#' in a client id, '%' in an issuer's path) are escaped.
    const scope = { issuer: "https://canvas.example/odd%23", clientId: "c#2" };
    const platformRoute = await routes.saveRoute({
      scope,
      name: "Platform LRS",
      endpoint: "https://a.example/xapi/",
      username: "u",
      password: "p",
    });
    const second = await routes.saveRoute({
      scope,
      name: "Second LRS",
      endpoint: "https://b.example/xapi/",
      username: "u",
      password: "p",
    });
    await routes.saveTenantSettings(scope, { actorIdentifier: "mbox_sha1sum" });
    const plain = await routes.resolveTenant({ ...scope, deploymentId: "d1" });
    expect(plain.actorIdentifier).toBe("mbox_sha1sum");
    expect(plain.routes.map((r) => r.routeId).sort()).toEqual([platformRoute.routeId, second.routeId].sort());

    const own = await routes.saveRoute({
      scope: { ...scope, deploymentId: "d2" },
      name: "Deployment LRS",
      endpoint: "https://c.example/xapi/",
      username: "u",
      password: "p",
    });
    await routes.saveTenantSettings({ ...scope, deploymentId: "d2" }, { actorIdentifier: "account" });
    const overridden = await routes.resolveTenant({ ...scope, deploymentId: "d2" });
    expect(overridden).toEqual({ actorIdentifier: "account", routes: [own] });

    await routes.saveRoute({ ...own, routeId: own.routeId, username: "u", password: "p", enabled: false });
    const disabled = await routes.resolveTenant({ ...scope, deploymentId: "d2" });
    expect(disabled.routes.map((r) => r.routeId).sort()).toEqual(
      [platformRoute.routeId, second.routeId].sort(),
    );
  });

  it("saves and resolves a tenant whose ids escaping would take past DynamoDB's key limits", async () => {
    // Each within its own bounds (an id of 400 bytes, an issuer of 1,024), but URI-escaped
    // they are 1,200 and over 2,000 characters: more than a sort key's 1,024 bytes.
    const tenant = {
      issuer: `https://long.route.example/${"a/".repeat(495)}`.slice(0, 1015),
      clientId: "中".repeat(133),
      deploymentId: "署".repeat(133),
    };
    const own = await routes.saveRoute({
      scope: tenant,
      name: "Deployment LRS",
      endpoint: "https://lrs.long.example/xapi/",
      username: "u",
      password: "p",
    });
    await routes.saveTenantSettings(tenant, { actorIdentifier: "mbox" });
    expect(await routes.resolveTenant(tenant)).toEqual({ actorIdentifier: "mbox", routes: [own] });
    // Another deployment of the same client is told apart, however long.
    const other = { ...tenant, deploymentId: "署".repeat(132) };
    expect(await routes.resolveTenant(other)).toEqual({ actorIdentifier: "account", routes: [] });
  });

  it("resolves a tenant without any route to no routes and the account identifier", async () => {
    expect(
      await routes.resolveTenant({ issuer: "https://none.example", clientId: "c", deploymentId: "d" }),
    ).toEqual({
      actorIdentifier: "account",
      routes: [],
    });
  });

  it("removes a route only once no new statements go to it, and keeps it, on, when some arrived", async () => {
    const tenant = { issuer: "https://removal.example", clientId: "c", deploymentId: "1" };
    const input = {
      scope: { issuer: tenant.issuer, clientId: tenant.clientId },
      name: "LRS",
      endpoint: "https://lrs.removal.example/xapi/",
      username: "key",
      password: "secret",
    };
    const kept = await routes.saveRoute(input);
    const late = buildStatement(eventOfType("launched"), SETTINGS);
    const arriving = await removeRouteWhenQuiet(kept.routeId, {
      routes,
      outbox,
      quietMs: 1_000,
      sleep: async () => {
        // Turned off: the tenant resolves to no route; an instance's cached copy still queues one.
        expect((await routes.resolveTenant(tenant)).routes).toEqual([]);
        await db.doc.send(
          new TransactWriteCommand({
            TransactItems: outboxTransactItems([late], [{ routeId: kept.routeId }], {
              tableName: db.tableName,
              now: new Date(),
            }),
          }),
        );
      },
    });
    expect(arriving).toMatchObject({ kind: "backlog", arrivedWhileRemoving: true });
    expect(await routes.getRoute(kept.routeId)).toMatchObject({ enabled: true });
    const again = await routes.getRouteWithCredentials(kept.routeId);
    expect(again?.credentials.reveal()).toEqual({ username: "key", password: "secret" });

    const quiet = await routes.saveRoute({ ...input, name: "LRS 2" });
    expect(
      await removeRouteWhenQuiet(quiet.routeId, { routes, outbox, quietMs: 1_000, sleep: async () => {} }),
    ).toEqual({ kind: "removed" });
    expect(await routes.getRoute(quiet.routeId)).toBeUndefined();
  });
});

describe("the xAPI admin page over DynamoDB", () => {
  it("says why statements wait: the last failed attempt, with what to do", async () => {
    const route = await routes.saveRoute({
      scope: { issuer: "https://waiting.example", clientId: "c" },
      name: "Waiting LRS",
      endpoint: "https://lrs.waiting.example/xapi/",
      username: "u",
      password: "p",
    });
    const built = [eventOfType("launched"), eventOfType("standard.mastered")].map((e) =>
      buildStatement(e, SETTINGS),
    );
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: outboxTransactItems(built, [route], { tableName: db.tableName, now: new Date() }),
      }),
    );
    const app = createXapiAdminRoutes({ outbox, routes });
    const quiet = await eventually(
      () => outbox.backlog(route.routeId),
      (b) => b.pending === 2,
    );
    expect(quiet).not.toHaveProperty("lastFailure");
    const [entry] = await outbox.listDue(route.routeId, new Date(), 1);
    if (!entry) throw new Error("fixture");
    await outbox.reschedule([
      {
        entry,
        attempts: 3,
        nextAttemptAt: new Date(Date.now() + 60_000),
        lastError: "the LRS answered 401: <b>bad key</b>",
      },
    ]);
    const failing = await eventually(
      () => outbox.backlog(route.routeId),
      (b) => b.lastFailure !== undefined,
    );
    expect(failing.lastFailure).toMatchObject({ error: "the LRS answered 401: <b>bad key</b>", attempts: 3 });
    const page = await (await app.request("/?s=session-token")).text();
    expect(page).toContain("the last attempt failed (3");
    expect(page).toContain("the LRS answered 401: &lt;b&gt;bad key&lt;/b&gt;");
    expect(page).toContain("npm run lrs -- credentials");
  });

  it("shows a parked statement with its reason and LRS answer, and replays it from the form", async () => {
    const route = await routes.saveRoute({
      scope: { issuer: "https://admin.example", clientId: "c" },
      name: "Admin test LRS",
      endpoint: "https://lrs.admin.example/xapi/",
      username: "u",
      password: "p",
    });
    const built = buildStatement(eventOfType("standard.mastered"), SETTINGS);
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: outboxTransactItems([built], [route], { tableName: db.tableName, now: new Date() }),
      }),
    );
    const [entry] = await outbox.listDue(route.routeId, new Date(), 10);
    if (!entry) throw new Error("fixture");
    await outbox.park(entry, {
      reason: "the LRS holds a different statement with this id",
      lrsStatus: 409,
      lrsBody: '{"message":"Conflict <b>"}',
      parkedAt: new Date().toISOString(),
      attempts: 1,
    });
    const app = createXapiAdminRoutes({ outbox, routes });
    const page = await eventually(
      async () => (await app.request("/?s=session-token")).text(),
      (html) => html.includes(built.id),
    );
    expect(page).toContain("Admin test LRS");
    expect(page).toContain("the LRS holds a different statement with this id");
    expect(page).toContain("HTTP 409");
    expect(page).toContain("{&quot;message&quot;:&quot;Conflict &lt;b&gt;&quot;}");
    expect(page).toContain('<input type="hidden" name="s" value="session-token"/>');

    const form = new URLSearchParams({ s: "session-token" });
    const res = await app.request(`/routes/${route.routeId}/parked/${built.id}/replay`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(
      `/?${new URLSearchParams({ notice: `Statement ${built.id} sent back to the queue.`, s: "session-token" })}`,
    );
    const item = await db.doc.send(
      new GetCommand({
        TableName: db.tableName,
        Key: { pk: `OUTBOX#${built.id}`, sk: `ROUTE#${route.routeId}` },
      }),
    );
    expect(item.Item?.status).toBe("pending");

    const json = await app.request(`/api/routes/${route.routeId}/parked/${built.id}/replay`, {
      method: "POST",
    });
    expect(json.status).toBe(404);
    expect(json.headers.get("content-type")).toBe("application/problem+json");
    expect(await json.json()).toEqual({
      type: "https://hlta.tool/problems/xapi.parked_statement_not_found",
      title: "No such parked statement",
      status: 404,
      detail: "This statement is not parked (it may have been replayed already).",
    });
    const unknownRoute = await app.request("/api/routes/nope/parked/replay", { method: "POST" });
    expect(await unknownRoute.json()).toMatchObject({
      type: "https://hlta.tool/problems/xapi.route_not_found",
      status: 404,
    });
  });

  it("lists routes with their backlog as JSON without credentials", async () => {
    const app = createXapiAdminRoutes({ outbox, routes });
    const res = await app.request("/api/routes");
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain("very-secret-pw");
    expect(text).not.toContain('"credentials"');
    const parsed = JSON.parse(text) as { routes: { name: string; backlog: { pending: number } }[] };
    expect(parsed.routes.map((r) => r.name)).toContain("Provider LRS");
  });
});
