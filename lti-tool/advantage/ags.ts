import * as z from "../../domain/zod.js";
import type { PlatformRegistration } from "../ports.js";
import { type PlatformServiceClient, PlatformServiceError, SCOPES, safeJson } from "./service-client.js";

/** AGS 2.0 media types (§3.2, §3.4). */
export const MEDIA = {
  lineItem: "application/vnd.ims.lis.v2.lineitem+json",
  lineItemContainer: "application/vnd.ims.lis.v2.lineitemcontainer+json",
  score: "application/vnd.ims.lis.v1.score+json",
} as const;

export type ActivityProgress = "Initialized" | "Started" | "InProgress" | "Submitted" | "Completed";
export type GradingProgress = "FullyGraded" | "Pending" | "PendingManual" | "Failed" | "NotReady";

/** A score as AGS §3.4 defines it: camelCase, exactly these fields. */
export interface Score {
  userId: string;
  scoreGiven?: number;
  scoreMaximum?: number;
  comment?: string;
  activityProgress: ActivityProgress;
  gradingProgress: GradingProgress;
  timestamp: string;
}

export const LineItemSchema = z.object({
  id: z.url(),
  scoreMaximum: z.number().check(z.positive()),
  label: z.string(),
  resourceId: z.optional(z.string()),
  resourceLinkId: z.optional(z.string()),
  tag: z.optional(z.string()),
});
export type LineItem = z.infer<typeof LineItemSchema>;

export interface NewLineItem {
  scoreMaximum: number;
  label: string;
  resourceId: string;
  resourceLinkId?: string;
  tag?: string;
}

/**
 * `{lineitem}/scores` with the path extended **before** any query string: Moodle's line item
 * URLs end in `?type_id=N` (lti.md), and appending after it posts to the wrong resource.
 */
export function scoresUrl(lineItemUrl: string): string {
  const url = new URL(lineItemUrl);
  url.pathname = `${url.pathname.replace(/\/$/, "")}/scores`;
  return url.toString();
}

export class AgsClient {
  constructor(private readonly client: PlatformServiceClient) {}

  /** Find the line item for our activity (`resourceId`), creating it if the course has none. */
  async findOrCreateLineItem(
    platform: PlatformRegistration,
    lineItemsUrl: string,
    item: NewLineItem,
  ): Promise<LineItem> {
    const query = new URL(lineItemsUrl);
    query.searchParams.set("resource_id", item.resourceId);
    if (item.resourceLinkId) query.searchParams.set("resource_link_id", item.resourceLinkId);
    const found = await this.client.call(platform, [SCOPES.lineItem], query.toString(), {
      headers: { accept: MEDIA.lineItemContainer },
    });
    const text = await found.text();
    if (!found.ok) throw failure("list line items", found.status, text);
    const existing = z.array(LineItemSchema).safeParse(safeJson(text));
    // Some platforms ignore the filter: match on resourceId ourselves.
    const match = existing.success ? existing.data.find((l) => l.resourceId === item.resourceId) : undefined;
    if (match) return match;
    const created = await this.client.call(platform, [SCOPES.lineItem], lineItemsUrl, {
      method: "POST",
      headers: { "content-type": MEDIA.lineItem, accept: MEDIA.lineItem },
      body: JSON.stringify(item),
    });
    const createdText = await created.text();
    if (!created.ok) throw failure("create a line item", created.status, createdText);
    const parsed = LineItemSchema.safeParse(safeJson(createdText));
    if (!parsed.success)
      throw failure("create a line item (unreadable answer)", created.status, createdText, false);
    return parsed.data;
  }

  /** POST a score to `{lineitem}/scores` (AGS §3.4). Only scores and progress, never candidates' text. */
  async postScore(platform: PlatformRegistration, lineItemUrl: string, score: Score): Promise<void> {
    const res = await this.client.call(platform, [SCOPES.score], scoresUrl(lineItemUrl), {
      method: "POST",
      headers: { "content-type": MEDIA.score },
      body: JSON.stringify(score),
    });
    const text = await res.text();
    if (!res.ok) throw failure("post a score", res.status, text);
  }
}

function failure(what: string, status: number, body: string, retryable = status === 429 || status >= 500) {
  return new PlatformServiceError(
    `The LMS would not ${what} (HTTP ${status}).`,
    status,
    retryable,
    body.slice(0, 2000),
  );
}
