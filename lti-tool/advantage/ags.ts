import * as z from "../../domain/zod.js";
import type { PlatformRegistration } from "../ports.js";
import { pagesOf } from "./nrps.js";
import {
  type PlatformServiceClient,
  PlatformServiceError,
  SCOPES,
  safeJson,
  serviceBody,
  statusText,
} from "./service-client.js";

/** Pages of line items read before deciding the course has none of ours. */
const MAX_LINE_ITEM_PAGES = 20;

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

  /**
   * Find the line item for our activity (`resourceId`), creating it if the course has none.
   * `grantedScopes` (the launch's AGS claim) limits what is asked for: a platform that grants
   * only `lineitem.readonly` (Moodle's "grade sync only") is searched with that scope, and is
   * never asked to create a column it does not let the tool manage.
   */
  async findOrCreateLineItem(
    platform: PlatformRegistration,
    lineItemsUrl: string,
    item: NewLineItem,
    options: { signal?: AbortSignal; grantedScopes?: readonly string[] } = {},
  ): Promise<LineItem> {
    const granted = options.grantedScopes?.length ? new Set(options.grantedScopes) : undefined;
    const manages = !granted || granted.has(SCOPES.lineItem);
    if (!manages && !granted?.has(SCOPES.lineItemReadOnly)) {
      throw gradeSyncOnly(
        "The LMS lets the tool send scores only to the gradebook column of each placed activity, and this one has none it can find.",
      );
    }
    const query = new URL(lineItemsUrl);
    query.searchParams.set("resource_id", item.resourceId);
    if (item.resourceLinkId) query.searchParams.set("resource_link_id", item.resourceLinkId);
    const listScope = manages ? SCOPES.lineItem : SCOPES.lineItemReadOnly;
    const match = await this.findLineItem(platform, query.toString(), item, options.signal, listScope);
    if (match) return match;
    if (!manages) {
      throw gradeSyncOnly(
        "The LMS has no gradebook column for this activity and does not let the tool create one (it grants the tool grade sync only).",
      );
    }
    // Sent once: an answer lost on the way may hide a column the LMS created, and only the
    // search above (the job's next try) can tell; a blind repeat would add a second column.
    const created = await this.client.call(platform, [SCOPES.lineItem], lineItemsUrl, {
      ...(options.signal ? { signal: options.signal } : {}),
      retry: false,
      method: "POST",
      headers: { "content-type": MEDIA.lineItem, accept: MEDIA.lineItem },
      body: JSON.stringify(item),
    });
    const createdText = await serviceBody(created, "creating a line item");
    if (!created.ok) throw failure("create a line item", created, createdText);
    const parsed = LineItemSchema.safeParse(safeJson(createdText));
    if (!parsed.success) throw failure("create a line item (unreadable answer)", created, createdText, false);
    return parsed.data;
  }

  /**
   * Our line item among the course's, every page (`Link: rel="next"`, same site only). Each item
   * is read on its own: another tool's odd item does not hide ours. A list the tool cannot read
   * is an error to retry, never a reason to create a second gradebook column.
   */
  private async findLineItem(
    platform: PlatformRegistration,
    firstPage: string,
    wanted: Pick<NewLineItem, "resourceId" | "resourceLinkId">,
    signal: AbortSignal | undefined,
    scope: string,
  ): Promise<LineItem | undefined> {
    // A list longer than the tool reads throws (TooManyPagesError): not finding ours among the
    // pages read is no reason to create a second column.
    const pages = pagesOf(firstPage, MAX_LINE_ITEM_PAGES, "line items", (url) =>
      this.client.call(platform, [scope], url, {
        ...(signal ? { signal } : {}),
        headers: { accept: MEDIA.lineItemContainer },
      }),
    );
    for await (const res of pages) {
      const text = await serviceBody(res, "the list of line items");
      if (!res.ok) throw failure("list line items", res, text);
      const items = safeJson(text);
      if (!Array.isArray(items)) throw failure("list line items (unreadable answer)", res, text, true);
      // Some platforms ignore the filter: match on resourceId ourselves, and on the placed link
      // when both say which (one activity placed twice in a course has a column per link).
      for (const raw of items) {
        const parsed = LineItemSchema.safeParse(raw);
        if (!parsed.success || parsed.data.resourceId !== wanted.resourceId) continue;
        const link = parsed.data.resourceLinkId;
        if (link === undefined || wanted.resourceLinkId === undefined || link === wanted.resourceLinkId) {
          return parsed.data;
        }
      }
    }
    return undefined;
  }

  /** POST a score to `{lineitem}/scores` (AGS §3.4). Only scores and progress, never candidates' text. */
  async postScore(
    platform: PlatformRegistration,
    lineItemUrl: string,
    score: Score,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const res = await this.client.call(platform, [SCOPES.score], scoresUrl(lineItemUrl), {
      ...(options.signal ? { signal: options.signal } : {}),
      method: "POST",
      headers: { "content-type": MEDIA.score },
      body: JSON.stringify(score),
    });
    // Accepted: the answer's body says nothing more (and reading it could only fail the score).
    if (res.ok) return void (await res.body?.cancel().catch(() => undefined));
    const text = await serviceBody(res, "a score");
    // Moodle refuses a score whose timestamp is not newer than the one it holds with 409: it has
    // this score already (a POST whose answer was lost, sent again) or a newer one. Done either way.
    if (res.status === 409) return;
    throw failure("post a score", res, text);
  }
}

/** A column the tool may not create or find (the scopes granted): not retried, with what mends it. */
function gradeSyncOnly(what: string): PlatformServiceError {
  return new PlatformServiceError(
    `${what} Add the activity again through the tool's activity picker (with a grade), or let the tool manage gradebook columns in the LMS's tool settings.`,
    undefined,
    false,
    "",
  );
}

function failure(
  what: string,
  res: Response,
  body: string,
  // Canvas answers throttling with "403 Forbidden (Rate Limit Exceeded)": that one waits, too.
  retryable = res.status === 429 || res.status >= 500 || (res.status === 403 && /rate limit/i.test(body)),
) {
  return new PlatformServiceError(
    `The LMS would not ${what} (${statusText(res)}).`,
    res.status,
    retryable,
    body.slice(0, 2000),
  );
}
