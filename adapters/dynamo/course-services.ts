import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { type CourseRef, courseScopeKey } from "../../domain/tenancy.js";
import * as z from "../../domain/zod.js";
import type { CourseMember } from "../../lti-tool/advantage/nrps.js";
import type { CourseServices, ResourceLinkRecord } from "../../lti-tool/ports.js";
import type { TransactItem } from "./enrolments.js";
import { keys } from "./table.js";
import { WriteMemo } from "./write-memo.js";

const ServicesSchema = z.object({
  lineItemsUrl: z.optional(z.string()),
  agsScopes: z.array(z.string()),
  membershipsUrl: z.optional(z.string()),
  updatedAt: z.string(),
});
const LinkSchema = z.object({
  resourceLinkId: z.string(),
  activityId: z.string(),
  lineItemUrl: z.optional(z.string()),
  title: z.optional(z.string()),
});
const RosterSchema = z.object({
  fetchedAt: z.string(),
  members: z.array(
    z.object({
      userId: z.string(),
      name: z.optional(z.string()),
      email: z.optional(z.string()),
      status: z.enum(["Active", "Inactive", "Deleted"]),
      ltiRoles: z.array(z.string()),
      role: z.optional(z.enum(["candidate", "tutor", "administrator"])),
    }),
  ),
});

export interface CachedRoster {
  fetchedAt: string;
  members: CourseMember[];
}

/**
 * How long an instance trusts that an item still holds what it last wrote there. Another
 * instance may have written other endpoints since (the LMS's settings changed, and changed
 * back): after this long the next launch writes them again, so the table is never out of date
 * for longer, while a class arriving at once still writes them once per instance.
 */
export const WRITTEN_MEMO_MS = 60_000;

/** Course-level LTI Advantage state: service endpoints, placed links, the NRPS roster cache. */
export class DynamoCourseServicesStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: { now?: () => number; memoMs?: number } = {},
  ) {}

  /** What this instance last wrote per item: unchanged endpoints are not rewritten on every launch. */
  private readonly written = new WriteMemo();

  private unchanged(key: string, value: unknown): boolean {
    const at = this.written.lastWrite(key, JSON.stringify(value));
    const now = this.clock.now?.() ?? Date.now();
    return at !== undefined && now - at < (this.clock.memoMs ?? WRITTEN_MEMO_MS);
  }

  /**
   * Writes a launch adds to its transaction: the course's endpoints and the link's activity,
   * when they differ from what this instance wrote in the last minute (`updatedAt` aside).
   */
  launchWrites(
    course: CourseRef,
    services: CourseServices | undefined,
    link: ResourceLinkRecord | undefined,
  ): { items: TransactItem[]; written(): void } {
    const scope = courseScopeKey(course);
    const out: TransactItem[] = [];
    const memo: [string, string][] = [];
    const servicesKey = `S\n${scope}`;
    const servicesMemo = services ? { ...services, updatedAt: undefined } : undefined;
    if (services && !this.unchanged(servicesKey, servicesMemo)) {
      memo.push([servicesKey, JSON.stringify(servicesMemo)]);
      out.push({
        Put: {
          TableName: this.tableName,
          Item: { ...keys.courseServices(scope), kind: "course-services", ...services },
        },
      });
    }
    const linkKey = link ? `L\n${scope}\n${link.resourceLinkId}` : "";
    if (link && !this.unchanged(linkKey, link)) {
      memo.push([linkKey, JSON.stringify(link)]);
      out.push({
        Put: {
          TableName: this.tableName,
          Item: { ...keys.resourceLink(scope, link.resourceLinkId), kind: "resource-link", ...link },
        },
      });
    }
    return {
      items: out,
      // Call once the launch's transaction succeeded, so a failed write is retried next launch.
      written: () => {
        const at = this.clock.now?.() ?? Date.now();
        for (const [k, v] of memo) this.written.remember(k, v, at);
      },
    };
  }

  async services(course: CourseRef): Promise<CourseServices | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.courseServices(courseScopeKey(course)) }),
    );
    return out.Item ? ServicesSchema.parse(out.Item) : undefined;
  }

  async link(course: CourseRef, resourceLinkId: string): Promise<ResourceLinkRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.resourceLink(courseScopeKey(course), resourceLinkId),
      }),
    );
    return out.Item ? LinkSchema.parse(out.Item) : undefined;
  }

  async roster(course: CourseRef): Promise<CachedRoster | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.roster(courseScopeKey(course)) }),
    );
    if (!out.Item) return undefined;
    const parsed = RosterSchema.parse(out.Item);
    return { fetchedAt: parsed.fetchedAt, members: parsed.members.map((m) => ({ ...m, role: m.role })) };
  }

  /** One item per course: fine to a few thousand members (400 KB item limit); larger courses need paging items. */
  async saveRoster(course: CourseRef, roster: CachedRoster): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.roster(courseScopeKey(course)),
          kind: "roster",
          fetchedAt: roster.fetchedAt,
          members: roster.members,
        },
      }),
    );
  }
}
