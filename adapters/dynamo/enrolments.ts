import { type DynamoDBDocumentClient, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Enrolment } from "../../domain/enrolment.js";
import { type CourseRef, courseScopeKey } from "../../domain/tenancy.js";
import * as z from "../../domain/zod.js";
import { queryAll } from "./query.js";
import { keys, TABLE_KEYS } from "./table.js";

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

export class DynamoEnrolmentStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Record a launch: create or refresh the enrolment, in one transaction with whatever else the
   * launch causes (the "launched" statement in the outbox), so neither exists without the other.
   */
  async recordLaunch(e: Enrolment, alsoWrite: readonly TransactItem[] = []): Promise<void> {
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
    const update = {
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
    // A one-item transaction costs about twice an update: use the transaction only when needed.
    if (alsoWrite.length === 0) await this.doc.send(new UpdateCommand(update));
    else await this.doc.send(new TransactWriteCommand({ TransactItems: [{ Update: update }, ...alsoWrite] }));
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
