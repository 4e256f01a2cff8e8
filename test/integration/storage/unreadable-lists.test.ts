/**
 * The admin lists read past unreadable rows: dropped after DynamoDB's `Limit`, a page of them at
 * the head of a list took the places of the readable rows behind (the grades page said "No parked
 * scores", the xAPI page listed nothing, "Replay all" replayed nothing).
 */
import { BatchWriteCommand, PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoGradeJobStore } from "../../../adapters/dynamo/grade-jobs.js";
import { DynamoOutboxStore } from "../../../adapters/dynamo/outbox.js";
import { keys } from "../../../adapters/dynamo/table.js";
import type { UnreadableRow } from "../../../adapters/dynamo/unreadable.js";
import type { GradeJob } from "../../../lti-tool/advantage/grades.js";
import { dynamoForTests } from "../statements/local-dynamo.js";

let db: Awaited<ReturnType<typeof dynamoForTests>>;
beforeAll(async () => {
  db = await dynamoForTests();
});
afterAll(async () => {
  await db?.stop();
});

async function putAll(items: Record<string, unknown>[]) {
  for (let i = 0; i < items.length; i += 25) {
    await db.doc.send(
      new BatchWriteCommand({
        RequestItems: { [db.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
  }
}

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

describe("unreadable parked rows ahead of a readable one", () => {
  it("xAPI: the readable parked statement is listed and replayed", async () => {
    const seen: UnreadableRow[] = [];
    const outbox = new DynamoOutboxStore(db.doc, db.tableName, { onUnreadable: (r) => seen.push(r) });
    const route = "probe-hidden-route";
    const parked = keys.outboxByStatus(route, "parked").gsi1pk;
    // The readable one, parked first (oldest).
    const good = uuid(999);
    await db.doc.send(
      new PutCommand({
        TableName: db.tableName,
        Item: {
          ...keys.outboxItem(good, route),
          gsi1pk: parked,
          gsi1sk: `2026-03-01T09:00:00.000Z#${good}`,
          kind: "xapi-outbox",
          statementId: good,
          routeId: route,
          body: "{}",
          status: "parked",
          attempts: 3,
          createdAt: "2026-03-01T08:00:00.000Z",
          nextAttemptAt: "2026-03-01T08:30:00.000Z",
          parkedReason: "The LRS refused it.",
          parkedAt: "2026-03-01T09:00:00.000Z",
        },
      }),
    );
    // 100 rows parked later that this version cannot read (no body: another version's, a hand edit).
    await putAll(
      Array.from({ length: 100 }, (_, i) => ({
        ...keys.outboxItem(uuid(i), route),
        gsi1pk: parked,
        gsi1sk: `2026-03-01T10:00:${String(i % 60).padStart(2, "0")}.${String(i).padStart(3, "0")}Z#${uuid(i)}`,
        kind: "xapi-outbox",
        statementId: uuid(i),
        routeId: route,
        status: "parked",
        attempts: 3,
        createdAt: "2026-03-01T08:00:00.000Z",
        nextAttemptAt: "2026-03-01T08:30:00.000Z",
        parkedReason: "The LRS refused it.",
      })),
    );

    // The xAPI admin page (pageSize 50) and "Replay all" (pages of 100) read newest first.
    const listed = await outbox.listParked(route, 50);
    const replayed = await outbox.replayAllParked(route, new Date("2026-03-02T10:00:00.000Z"));
    expect(seen.length).toBeGreaterThan(0); // the unreadable ones were reported
    expect({ listed: listed.map((e) => e.statementId), replayed }).toEqual({ listed: [good], replayed: 1 });
  });

  it("grades: the readable parked job is on the admin page's list", async () => {
    const store = new DynamoGradeJobStore(db.doc, db.tableName, { onUnreadable: () => {} });
    const job: GradeJob = {
      course: { issuer: "https://lms.example", clientId: "c1", deploymentId: "1", contextId: "probe-hidden" },
      userId: "readable",
      activityId: "written-task-1",
      jobId: "job-readable",
      scoreGiven: 1,
      scoreMaximum: 1,
      activityProgress: "Completed",
      gradingProgress: "FullyGraded",
      timestamp: "2026-03-01T08:00:00.000Z",
      label: "Written task 1",
      attempts: 0,
      nextAttemptAt: "2026-03-01T08:00:00.000Z",
      status: "pending",
    };
    await db.doc.send(new TransactWriteCommand({ TransactItems: [store.enqueueWrite(job)] }));
    await store.park(job, { reason: "The LMS refused the score." }); // parked now (gsi1sk = now)
    // 100 jobs parked earlier by a version whose rows this one cannot read (oldest first on the page).
    await putAll(
      Array.from({ length: 100 }, (_, i) => ({
        pk: "T#probe#C#old",
        sk: `GRADE#written-task-1#u${i}`,
        gsi1pk: keys.gradeQueue("parked").gsi1pk,
        gsi1sk: `2020-01-01T00:00:00.${String(i).padStart(3, "0")}Z#job-${i}`,
        kind: "grade-job",
        ...job,
        userId: `u${i}`,
        jobId: `job-${i}`,
        status: "parked",
        gradingProgress: "Graded by an older version",
      })),
    );
    // compose.ts: `parked: () => grades.parked()` (the default limit, 100).
    const listed = await store.parked();
    expect(listed.map((j) => j.userId)).toEqual(["readable"]);
  });
});
