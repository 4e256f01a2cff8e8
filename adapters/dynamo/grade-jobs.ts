import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { courseScopeKey } from "../../domain/tenancy.js";
import * as z from "../../domain/zod.js";
import type { GradeJob, GradeJobStore } from "../../lti-tool/advantage/grades.js";
import { conditionHeld } from "./conditional.js";
import type { TransactItem } from "./enrolments.js";
import { keys, TABLE_KEYS } from "./table.js";
import { type OnUnreadable, queryReadable, readQueuePage } from "./unreadable.js";

// Built on first use: only grade delivery and the admin pages read jobs, never a launch.
const GradeJobSchema = z.lazySchema(() =>
  z.object({
    course: z.object({
      issuer: z.string(),
      clientId: z.string(),
      deploymentId: z.string(),
      contextId: z.string(),
    }),
    userId: z.string(),
    activityId: z.string(),
    jobId: z.string(),
    scoreGiven: z.optional(z.number()),
    scoreMaximum: z.number(),
    activityProgress: z.enum(["Initialized", "Started", "InProgress", "Submitted", "Completed"]),
    gradingProgress: z.enum(["FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"]),
    timestamp: z.string(),
    label: z.string(),
    resourceLinkId: z.optional(z.string()),
    attempts: z.number(),
    nextAttemptAt: z.string(),
    status: z.enum(["pending", "delivered", "parked"]),
    lastError: z.optional(
      z.object({ status: z.optional(z.number()), body: z.optional(z.string()), reason: z.string() }),
    ),
  }),
);

const NAMES = { "#st": "status", "#g": TABLE_KEYS.gsi1pk, "#s": TABLE_KEYS.gsi1sk };

/**
 * Grade jobs live in their course's partition; gsi1 lists the pending ones by due time and the
 * parked ones for the admin. Every state change is conditional on the job's `jobId`, so a
 * newer completion that replaced a job mid-delivery is never marked delivered by mistake.
 * A row the schema refuses does not stop the others: a due one is put back an hour behind the
 * queue (`readQueuePage`), a parked one is left out of the list; each is reported to
 * `onUnreadable` (the functions log it as an error).
 */
export class DynamoGradeJobStore implements GradeJobStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { onUnreadable?: OnUnreadable } = {},
  ) {}

  /** The Put a completion adds to its own transaction. */
  enqueueWrite(job: GradeJob): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...keys.gradeJob(courseScopeKey(job.course), job.activityId, job.userId),
          kind: "grade-job",
          ...job,
          ...keys.gradeQueue("pending"),
          [TABLE_KEYS.gsi1sk]: `${job.nextAttemptAt}#${job.jobId}`,
        },
      },
    };
  }

  async due(now: Date, limit: number): Promise<GradeJob[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: TABLE_KEYS.gsi1,
        KeyConditionExpression: "#g = :g AND #s <= :now",
        ExpressionAttributeNames: { "#g": TABLE_KEYS.gsi1pk, "#s": TABLE_KEYS.gsi1sk },
        ExpressionAttributeValues: {
          ":g": keys.gradeQueue("pending").gsi1pk,
          ":now": `${now.toISOString()}#~`,
        },
        Limit: limit,
      }),
    );
    return readQueuePage(this.doc, this.tableName, out.Items ?? [], GradeJobSchema(), {
      now,
      reading: "grade jobs due",
      onUnreadable: this.options.onUnreadable,
    });
  }

  /** The job of one candidate and activity in one course, by its key. */
  async get(course: GradeJob["course"], activityId: string, userId: string): Promise<GradeJob | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.gradeJob(courseScopeKey(course), activityId, userId),
      }),
    );
    return out.Item ? GradeJobSchema().parse(out.Item) : undefined;
  }

  async parked(limit = 100): Promise<GradeJob[]> {
    return queryReadable(
      this.doc,
      {
        TableName: this.tableName,
        IndexName: TABLE_KEYS.gsi1,
        KeyConditionExpression: "#g = :g",
        ExpressionAttributeNames: { "#g": TABLE_KEYS.gsi1pk },
        ExpressionAttributeValues: { ":g": keys.gradeQueue("parked").gsi1pk },
      },
      GradeJobSchema(),
      { limit, reading: "parked grade jobs", onUnreadable: this.options.onUnreadable },
    );
  }

  async markDelivered(job: GradeJob, at: Date): Promise<void> {
    await this.update(job, "SET #st = :st, deliveredAt = :at REMOVE #g, #s", {
      ":st": "delivered",
      ":at": at.toISOString(),
    });
  }

  async reschedule(
    job: GradeJob,
    nextAttemptAt: Date,
    error: NonNullable<GradeJob["lastError"]>,
  ): Promise<void> {
    const next = nextAttemptAt.toISOString();
    await this.update(job, "SET attempts = attempts + :one, nextAttemptAt = :n, lastError = :e, #s = :gs", {
      ":one": 1,
      ":n": next,
      ":e": error,
      ":gs": `${next}#${job.jobId}`,
    });
  }

  async park(job: GradeJob, error: NonNullable<GradeJob["lastError"]>): Promise<void> {
    await this.update(job, "SET #st = :st, lastError = :e, #g = :g, #s = :gs", {
      ":st": "parked",
      ":e": error,
      ":g": keys.gradeQueue("parked").gsi1pk,
      ":gs": `${new Date().toISOString()}#${job.jobId}`,
    });
  }

  /** Put a parked job back in the queue, due now. */
  async replay(job: GradeJob, now = new Date()): Promise<void> {
    await this.update(job, "SET #st = :st, attempts = :zero, nextAttemptAt = :n, #g = :g, #s = :gs", {
      ":st": "pending",
      ":zero": 0,
      ":n": now.toISOString(),
      ":g": keys.gradeQueue("pending").gsi1pk,
      ":gs": `${now.toISOString()}#${job.jobId}`,
    });
  }

  private async update(job: GradeJob, expression: string, values: Record<string, unknown>): Promise<void> {
    // A newer completion replaced this job (the condition fails): it will be delivered in its own right.
    await conditionHeld(
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.gradeJob(courseScopeKey(job.course), job.activityId, job.userId),
          UpdateExpression: expression,
          ConditionExpression: "jobId = :job",
          // Only the names the expression uses: DynamoDB refuses unused ones.
          ExpressionAttributeNames: Object.fromEntries(
            Object.entries(NAMES).filter(([placeholder]) => new RegExp(`${placeholder}\\b`).test(expression)),
          ),
          ExpressionAttributeValues: { ...values, ":job": job.jobId },
        }),
      ),
    );
  }
}
