import { type DynamoDBDocumentClient, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Enrolment } from "../../domain/enrolment.js";
import { type CourseRef, courseScopeKey } from "../../domain/tenancy.js";
import * as z from "../../domain/zod.js";
import { queryAll } from "./query.js";
import { keys, TABLE_KEYS } from "./table.js";
import { WriteMemo } from "./write-memo.js";

/** A write another store contributes to the same transaction (for example an xAPI outbox item). */
export type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]["TransactItems"]
>[number];

const EnrolmentItemSchema = z.object({
  userId: z.string(),
  role: z.enum(["candidate", "tutor", "administrator"]),
  ltiRoles: z.array(z.string()),
  name: z.optional(z.string()),
  email: z.optional(z.string()),
  locale: z.optional(z.string()),
  courseTitle: z.optional(z.string()),
  registration: z.string(),
  firstLaunchAt: z.string(),
  lastLaunchAt: z.string(),
});

/**
 * How long an instance trusts that a candidate's enrolment still holds what it last wrote there,
 * within the same UTC day. A candidate moving between the course's activities launches the tool
 * again and again; while nothing about them changed (role, name, email, locale, course title),
 * those launches spend their login alone, one conditional put instead of a transaction with the
 * enrolment's update (twice the writes). So `lastLaunchAt` may lag by up to this long after the
 * instance's last write of it, never across a day: the cohort page shows its date.
 *
 * An instance cannot see what another wrote since. Were a person's details changed in the LMS and
 * changed back within these minutes, with launches on two instances between, the table could
 * keep the changed value until their next launch that writes. Hence candidates only: a teacher
 * may switch to a student's view and back (Moodle's "Switch role to…"), launching as a learner and
 * as a teacher by turns, and every launch of a tutor or an administrator writes its enrolment.
 * (Those a teacher makes in a student's view are a candidate's; if one of them is skipped after
 * another instance wrote the teacher's role, the cohort shows them as the teacher they are.)
 */
export const ENROLMENT_MEMO_MS = 10 * 60_000;

export class DynamoEnrolmentStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** What this instance last wrote per enrolment (its fields but `lastLaunchAt`), and when. */
  private readonly written = new WriteMemo();

  /**
   * Whether `e` is a candidate's that this instance wrote, as it is now (`lastLaunchAt` aside),
   * less than ENROLMENT_MEMO_MS before `at` and on the same UTC day: the launch at `at` need not
   * write it.
   */
  writtenRecently(e: Enrolment, at: Date): boolean {
    if (e.role !== "candidate") return false;
    const last = this.written.lastWrite(memoKey(e), memoValue(e));
    const now = at.getTime();
    return (
      last !== undefined &&
      now >= last &&
      now - last < ENROLMENT_MEMO_MS &&
      new Date(last).toISOString().slice(0, 10) === at.toISOString().slice(0, 10)
    );
  }

  /** Call once `e`'s write at `at` succeeded (so a failed one is written again next launch). */
  remember(e: Enrolment, at: Date): void {
    this.written.remember(memoKey(e), memoValue(e), at.getTime());
  }

  /**
   * Record a launch: create or refresh the enrolment, in one transaction with whatever else the
   * launch causes (the "launched" statement in the outbox), so neither exists without the other.
   * With `{ enrolment: false }`, only `alsoWrite`, in one transaction (the enrolment is current).
   */
  async recordLaunch(
    e: Enrolment,
    alsoWrite: readonly TransactItem[] = [],
    options: { enrolment?: boolean } = {},
  ): Promise<void> {
    if (options.enrolment === false) {
      if (alsoWrite.length === 0) return;
      await this.doc.send(new TransactWriteCommand({ TransactItems: [...alsoWrite] }));
      return;
    }
    const update = this.enrolmentUpdate(e);
    // A one-item transaction costs about twice an update: use the transaction only when needed.
    if (alsoWrite.length === 0) await this.doc.send(new UpdateCommand(update));
    else await this.doc.send(new TransactWriteCommand({ TransactItems: [{ Update: update }, ...alsoWrite] }));
  }

  /** The enrolment's upsert: its fields now, its first launch and registration kept. */
  private enrolmentUpdate(e: Enrolment) {
    const scope = courseScopeKey(e.course);
    const set: Record<string, unknown> = {
      kind: "enrolment",
      userId: e.userId,
      role: e.role,
      ltiRoles: e.ltiRoles,
      lastLaunchAt: e.lastLaunchAt,
      // Cohort listing across a course: gsi1 by course, then role and user.
      [TABLE_KEYS.gsi1pk]: `COHORT#${scope}`,
      [TABLE_KEYS.gsi1sk]: `${e.role}#${e.userId}`,
      ...(e.name !== undefined ? { name: e.name } : {}),
      ...(e.email !== undefined ? { email: e.email } : {}),
      ...(e.locale !== undefined ? { locale: e.locale } : {}),
      ...(e.courseTitle !== undefined ? { courseTitle: e.courseTitle } : {}),
    };
    const names = Object.keys(set);
    return {
      TableName: this.tableName,
      Key: keys.enrolment(scope, e.userId),
      UpdateExpression: `SET ${names.map((_, i) => `#a${i} = :v${i}`).join(", ")}, #first = if_not_exists(#first, :first), #reg = if_not_exists(#reg, :reg)`,
      ExpressionAttributeNames: {
        ...Object.fromEntries(names.map((n, i) => [`#a${i}`, n])),
        "#first": "firstLaunchAt",
        "#reg": "registration",
      },
      ExpressionAttributeValues: {
        ...Object.fromEntries(names.map((n, i) => [`:v${i}`, set[n]])),
        ":first": e.firstLaunchAt,
        ":reg": e.registration,
      },
    };
  }

  async listCourse(course: CourseRef): Promise<Enrolment[]> {
    const k = keys.enrolments(courseScopeKey(course));
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :sk)",
      ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk, "#sk": TABLE_KEYS.sk },
      ExpressionAttributeValues: { ":pk": k.pk, ":sk": k.skPrefix },
    });
    return items.map((i) => ({ course, ...EnrolmentItemSchema.parse(i) }));
  }
}

/** One enrolment per course and person. */
function memoKey(e: Enrolment): string {
  return `${courseScopeKey(e.course)}\n${e.userId}`;
}

/** What the enrolment's update writes that a launch can change, `lastLaunchAt` aside. */
function memoValue(e: Enrolment): string {
  return JSON.stringify([e.role, e.ltiRoles, e.name, e.email, e.locale, e.courseTitle]);
}
