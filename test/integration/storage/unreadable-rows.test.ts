/**
 * One stored row the schema refuses (written by another version of the tool, or edited by hand)
 * must not stop a work queue: before, the grade queue's and a route's xAPI queue's reads threw
 * on it, every round, and nothing behind it was ever sent again.
 */
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TransactItem } from "../../../adapters/dynamo/enrolments.js";
import { DynamoGradeJobStore } from "../../../adapters/dynamo/grade-jobs.js";
import { DynamoLrsRouteStore } from "../../../adapters/dynamo/lrs-routes.js";
import { DynamoOutboxStore, outboxTransactItems } from "../../../adapters/dynamo/outbox.js";
import { UNREADABLE_DEFER_MS, type UnreadableRow } from "../../../adapters/dynamo/unreadable.js";
import type { GradeJob } from "../../../lti-tool/advantage/grades.js";
import { createAesGcmCipher } from "../../../statements/credential-cipher.js";
import { dynamoForTests } from "../statements/local-dynamo.js";

let db: Awaited<ReturnType<typeof dynamoForTests>>;
beforeAll(async () => {
  db = await dynamoForTests();
});
afterAll(async () => {
  await db?.stop();
});

const NOW = new Date("2026-03-02T10:00:00.000Z");
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000).toISOString();

/** The Put of a transaction item, with its table and item. */
function putOf(item: TransactItem): {
  TableName: string;
  Item: Record<string, unknown> & { pk: string; sk: string };
} {
  const put = item.Put;
  if (!put?.TableName || typeof put.Item?.pk !== "string" || typeof put.Item.sk !== "string") {
    throw new Error("not a Put of a keyed item");
  }
  return { TableName: put.TableName, Item: { ...put.Item, pk: put.Item.pk, sk: put.Item.sk } };
}

function gradeJob(userId: string, nextAttemptAt: string, contextId: string): GradeJob {
  return {
    course: { issuer: "https://lms.example", clientId: "c1", deploymentId: "1", contextId },
    userId,
    activityId: "written-task-1",
    jobId: `job-${userId}`,
    scoreGiven: 1,
    scoreMaximum: 1,
    activityProgress: "Completed",
    gradingProgress: "FullyGraded",
    timestamp: at(-60),
    label: "Written task 1",
    attempts: 0,
    nextAttemptAt,
    status: "pending",
  };
}

describe("grade jobs: a row the schema refuses", () => {
  it("is put back an hour behind the queue and reported, and the jobs behind it are read", async () => {
    const seen: UnreadableRow[] = [];
    const store = new DynamoGradeJobStore(db.doc, db.tableName, { onUnreadable: (row) => seen.push(row) });
    const context = "unreadable-grades";
    // The bad one is due first: every round used to read it first, and throw.
    const bad = putOf(store.enqueueWrite(gradeJob("u0", at(-30), context)));
    await db.doc.send(new PutCommand({ ...bad, Item: { ...bad.Item, scoreMaximum: "TEN-POINTS" } }));
    for (const [user, due] of [
      ["u1", at(-20)],
      ["u2", at(-10)],
    ] as const) {
      await db.doc.send(
        new TransactWriteCommand({ TransactItems: [store.enqueueWrite(gradeJob(user, due, context))] }),
      );
    }

    const first = await store.due(NOW, 2);
    expect(first.map((j) => j.userId)).toEqual(["u1"]);
    expect(seen).toEqual([
      {
        pk: bad.Item.pk,
        sk: bad.Item.sk,
        reading: "grade jobs due",
        issues: [expect.objectContaining({ path: "scoreMaximum" })],
        deferredUntil: new Date(NOW.getTime() + UNREADABLE_DEFER_MS).toISOString(),
      },
    ]);
    // Its values are not in the report (only keys and what was wrong).
    expect(JSON.stringify(seen)).not.toContain("TEN-POINTS");

    // The next round reads what is behind it; the bad row waits its hour, kept as it was.
    expect((await store.due(NOW, 2)).map((j) => j.userId)).toEqual(["u1", "u2"]);
    expect(seen).toHaveLength(1);
    const kept = await db.doc.send(
      new GetCommand({ TableName: db.tableName, Key: { pk: bad.Item.pk, sk: bad.Item.sk } }),
    );
    expect(kept.Item).toMatchObject({
      scoreMaximum: "TEN-POINTS",
      status: "pending",
      gsi1pk: "GRADES#pending",
    });
    expect(kept.Item?.gsi1sk).toBe(`${new Date(NOW.getTime() + UNREADABLE_DEFER_MS).toISOString()}#job-u0`);

    // An hour later it is read again, and reported again: it is not dropped.
    const later = new Date(NOW.getTime() + UNREADABLE_DEFER_MS + 1000);
    const mended = new Date(later.getTime() + UNREADABLE_DEFER_MS);
    expect((await store.due(later, 10)).map((j) => j.userId)).toEqual(["u1", "u2"]);
    expect(seen.at(-1)).toMatchObject({ pk: bad.Item.pk, deferredUntil: mended.toISOString() });

    // Mended by hand, it is read like any other.
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: { pk: bad.Item.pk, sk: bad.Item.sk },
        UpdateExpression: "SET scoreMaximum = :one",
        ExpressionAttributeValues: { ":one": 1 },
      }),
    );
    const after = await store.due(new Date(mended.getTime() + 1000), 10);
    expect(after.map((j) => j.userId)).toEqual(["u1", "u2", "u0"]);
  });

  it("is left out of the parked list, reported, and the other parked jobs are listed", async () => {
    const seen: UnreadableRow[] = [];
    const store = new DynamoGradeJobStore(db.doc, db.tableName, { onUnreadable: (row) => seen.push(row) });
    const context = "unreadable-parked";
    const good = gradeJob("p1", at(-5), context);
    const bad = gradeJob("p2", at(-5), context);
    for (const job of [good, bad]) {
      await db.doc.send(new TransactWriteCommand({ TransactItems: [store.enqueueWrite(job)] }));
      await store.park(job, { reason: "The LMS refused the score." });
    }
    const badKey = putOf(store.enqueueWrite(bad)).Item;
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: { pk: badKey.pk, sk: badKey.sk },
        UpdateExpression: "SET gradingProgress = :odd",
        ExpressionAttributeValues: { ":odd": "Graded by hand" },
      }),
    );
    const parked = (await store.parked(100)).filter((j) => j.course.contextId === context);
    expect(parked.map((j) => j.userId)).toEqual(["p1"]);
    expect(seen).toEqual([
      expect.objectContaining({ pk: badKey.pk, sk: badKey.sk, reading: "parked grade jobs" }),
    ]);
    expect(seen[0]).not.toHaveProperty("deferredUntil");
  });
});

describe("xAPI outbox: a row the schema refuses", () => {
  const statement = (id: string) => ({ id, json: JSON.stringify({ id }), eventType: "launched" as const });

  it("is put back an hour behind its route's queue, reported, and the statements behind it are read", async () => {
    const seen: UnreadableRow[] = [];
    const outbox = new DynamoOutboxStore(db.doc, db.tableName, { onUnreadable: (row) => seen.push(row) });
    const route = "unreadable-route";
    const ids = ["00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"];
    for (const [i, id] of ids.entries()) {
      await db.doc.send(
        new TransactWriteCommand({
          TransactItems: outboxTransactItems([statement(id)], [{ routeId: route }], {
            tableName: db.tableName,
            now: new Date(NOW.getTime() - (60 - i) * 1000),
          }),
        }),
      );
    }
    // The first one (due first) loses its body, as a hand edit might.
    const badKey = { pk: `OUTBOX#${ids[0]}`, sk: `ROUTE#${route}` };
    await db.doc.send(
      new UpdateCommand({ TableName: db.tableName, Key: badKey, UpdateExpression: "REMOVE body" }),
    );

    const due = await outbox.listDue(route, NOW, 10);
    expect(due.map((e) => e.statementId)).toEqual([ids[1]]);
    expect(seen).toEqual([
      {
        ...badKey,
        reading: "xAPI statements due",
        issues: [expect.objectContaining({ path: "body" })],
        deferredUntil: new Date(NOW.getTime() + UNREADABLE_DEFER_MS).toISOString(),
      },
    ]);
    const kept = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: badKey }));
    expect(kept.Item).toMatchObject({ status: "pending", gsi1pk: `OUTBOX#${route}#pending` });

    // The admin's parked list leaves such a row out instead of failing the page.
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: badKey,
        UpdateExpression: "SET gsi1pk = :parked, #st = :st",
        ExpressionAttributeNames: { "#st": "status" },
        ExpressionAttributeValues: { ":parked": `OUTBOX#${route}#parked`, ":st": "parked" },
      }),
    );
    expect(await outbox.listParked(route, 10)).toEqual([]);
    expect(seen.at(-1)).toMatchObject({ ...badKey, reading: "parked xAPI statements" });
  });
});

describe("LRS routes: a row the schema refuses", () => {
  it("is left out and reported: its platform's launches still find their routes, and the sweep lists the rest", async () => {
    const seen: UnreadableRow[] = [];
    const routes = new DynamoLrsRouteStore(
      db.doc,
      db.tableName,
      createAesGcmCipher({ current: { kid: "test-1", key: Buffer.alloc(32, 9) } }),
      { onUnreadable: (row) => seen.push(row) },
    );
    const tenant = { issuer: "https://unreadable-route.example", clientId: "c1", deploymentId: "1" };
    const good = await routes.saveRoute({
      scope: { issuer: tenant.issuer, clientId: tenant.clientId },
      name: "Provider LRS",
      endpoint: "https://lrs.unreadable.example/xapi/",
      username: "u",
      password: "p",
    });
    // Another deployment's route under the same platform, as a newer version of the tool wrote it.
    const other = await routes.saveRoute({
      scope: { ...tenant, deploymentId: "2" },
      name: "Newer LRS",
      endpoint: "https://lrs2.unreadable.example/xapi/",
      username: "u",
      password: "p",
    });
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: { pk: `LRSROUTE#${other.routeId}`, sk: "ROUTE" },
        UpdateExpression: "SET credentials = :c",
        ExpressionAttributeValues: { ":c": { v: 2, sealed: "from the future" } },
      }),
    );
    await routes.saveTenantSettings(tenant, { actorIdentifier: "mbox" });
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: {
          pk: `XAPISETTINGS#${encodeURIComponent(tenant.issuer)}#${tenant.clientId}`,
          sk: "DEPLOYMENT#1",
        },
        UpdateExpression: "SET actorIdentifier = :a",
        ExpressionAttributeValues: { ":a": "openid" },
      }),
    );

    // The settings' row cannot be read either: the default identifier, which names no one.
    expect(await routes.resolveTenant(tenant)).toEqual({ actorIdentifier: "account", routes: [good] });
    expect((await routes.listRoutes()).map((r) => r.routeId)).toContain(good.routeId);
    expect(seen.map((r) => [r.pk, r.reading])).toEqual([
      [`LRSROUTE#${other.routeId}`, "LRS routes"],
      [`XAPISETTINGS#${encodeURIComponent(tenant.issuer)}#${tenant.clientId}`, "xAPI settings"],
      [`LRSROUTE#${other.routeId}`, "LRS routes"],
    ]);
  });
});
