/**
 * Assignment and Grade Services 2.0, at Moodle's URLs (`mod/lti/services.php`):
 *
 *   GET, POST   /mod/lti/services.php/{course}/lineitems?type_id={n}
 *   GET, PUT, DELETE /mod/lti/services.php/{course}/lineitems/{id}/lineitem?type_id={n}
 *   POST        /mod/lti/services.php/{course}/lineitems/{id}/lineitem/scores?type_id={n}
 *   GET         /mod/lti/services.php/{course}/lineitems/{id}/lineitem/results?type_id={n}
 *
 * A line item's URL ends in `?type_id=N`, so `/scores` must go into the path before the
 * query: a POST to `…/lineitem?type_id=N/scores` reaches the line item itself and gets 404.
 * Scores are checked as Moodle checks them, refused with 409 when not newer than the last one,
 * rescaled to the line item's maximum, and only count as a grade when `FullyGraded`.
 */
import type { Context, Hono } from "hono";
import * as z from "zod";
import { MEDIA_TYPE, SCOPE } from "./claims.js";
import {
  accepts,
  authorize,
  json,
  mediaTypeOf,
  pageQuery,
  paginate,
  publicUrl,
  type ServiceContext,
  serviceError,
} from "./services.js";
import type { RegisteredTool } from "./tools.js";

export const ACTIVITY_PROGRESS = ["Initialized", "Started", "InProgress", "Submitted", "Completed"] as const;
export const GRADING_PROGRESS = ["FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"] as const;

export interface LineItem {
  readonly id: string;
  readonly courseId: string;
  /** The tool (client_id) the line item belongs to: only it sees the line item. */
  readonly tool: string;
  readonly label: string;
  readonly scoreMaximum: number;
  readonly resourceId: string;
  readonly tag: string;
  readonly resourceLinkId: string | undefined;
  readonly startDateTime: string | undefined;
  readonly endDateTime: string | undefined;
  readonly gradesReleased: boolean | undefined;
}

/** A cell of the gradebook: the last score accepted for a user on a line item. */
export interface GradebookEntry {
  readonly lineItemId: string;
  readonly userId: string;
  readonly scoreGiven: number | undefined;
  readonly scoreMaximum: number;
  /** scoreGiven rescaled to the line item's maximum; null unless FullyGraded. */
  readonly grade: number | null;
  readonly activityProgress: string;
  readonly gradingProgress: string;
  readonly timestamp: string;
  readonly comment: string | undefined;
}

/** One POST to a scores endpoint, exactly as received, and what came of it. */
export interface ScoreRecord {
  readonly at: number;
  readonly url: string;
  readonly courseId: string;
  readonly lineItemId: string;
  readonly tool: string | undefined;
  readonly contentType: string | undefined;
  /** The body as posted. */
  readonly body: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: unknown;
  readonly status: number;
  /** Whether it changed the gradebook. */
  readonly applied: boolean;
  readonly error: string | undefined;
}

const IsoDateTime = z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time with a time zone" });

const LineItemBody = z.looseObject({
  id: z.string().optional(),
  label: z.string().trim().min(1, "is required"),
  scoreMaximum: z.number({ error: "must be a number" }).positive("must be more than 0").finite(),
  resourceId: z.string().optional(),
  resourceLinkId: z.string().optional(),
  tag: z.string().optional(),
  startDateTime: IsoDateTime.optional(),
  endDateTime: IsoDateTime.optional(),
  gradesReleased: z.boolean().optional(),
});

const ScoreBody = z
  .looseObject({
    userId: z.string({ error: "is required (the user's sub)" }).min(1, "is required (the user's sub)"),
    scoreGiven: z.number({ error: "must be a number" }).finite().min(0, "must be 0 or more").optional(),
    scoreMaximum: z.number({ error: "must be a number" }).finite().positive("must be more than 0").optional(),
    comment: z.string().optional(),
    activityProgress: z.enum(ACTIVITY_PROGRESS, { error: `must be one of ${ACTIVITY_PROGRESS.join(", ")}` }),
    gradingProgress: z.enum(GRADING_PROGRESS, { error: `must be one of ${GRADING_PROGRESS.join(", ")}` }),
    timestamp: IsoDateTime,
  })
  .superRefine((score, ctx) => {
    if (score.scoreGiven === undefined) return;
    if (score.scoreMaximum === undefined) {
      ctx.addIssue({ code: "custom", path: ["scoreMaximum"], message: "is required with scoreGiven" });
    } else if (score.scoreGiven > score.scoreMaximum) {
      ctx.addIssue({ code: "custom", path: ["scoreGiven"], message: "must not be more than scoreMaximum" });
    }
  });

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join(".") || "(body)"} ${i.message}`).join("; ");
}

/** The course gradebook: line items, the last score per user, and every score received. */
export class Gradebook {
  private readonly items: LineItem[] = [];
  private readonly entries = new Map<string, GradebookEntry>();
  private readonly received: ScoreRecord[] = [];
  private nextId = 1;

  lineItems(courseId?: string): readonly LineItem[] {
    return courseId === undefined ? [...this.items] : this.items.filter((i) => i.courseId === courseId);
  }

  lineItem(courseId: string, id: string): LineItem | undefined {
    return this.items.find((i) => i.courseId === courseId && i.id === id);
  }

  add(item: Omit<LineItem, "id">): LineItem {
    const added: LineItem = { ...item, id: String(this.nextId++) };
    this.items.push(added);
    return added;
  }

  replace(item: LineItem): void {
    const index = this.items.findIndex((i) => i.id === item.id);
    if (index >= 0) this.items[index] = item;
  }

  remove(id: string): void {
    const index = this.items.findIndex((i) => i.id === id);
    if (index >= 0) this.items.splice(index, 1);
    for (const key of [...this.entries.keys()]) if (key.startsWith(`${id}\n`)) this.entries.delete(key);
  }

  entry(lineItemId: string, userId: string): GradebookEntry | undefined {
    return this.entries.get(`${lineItemId}\n${userId}`);
  }

  grades(courseId?: string): readonly GradebookEntry[] {
    const ids = new Set(this.lineItems(courseId).map((i) => i.id));
    return [...this.entries.values()].filter((e) => ids.has(e.lineItemId));
  }

  setEntry(entry: GradebookEntry): void {
    this.entries.set(`${entry.lineItemId}\n${entry.userId}`, entry);
  }

  record(score: ScoreRecord): void {
    this.received.push(score);
  }

  scores(): readonly ScoreRecord[] {
    return [...this.received];
  }
}

export interface AgsUrls {
  lineItems(courseId: string, typeId: string): string;
  lineItem(courseId: string, itemId: string, typeId: string): string;
}

export function agsUrls(ctx: ServiceContext): AgsUrls {
  const base = "/mod/lti/services.php";
  return {
    lineItems: (courseId, typeId) => ctx.at(`${base}/${courseId}/lineitems`, { type_id: typeId }),
    lineItem: (courseId, itemId, typeId) =>
      ctx.at(`${base}/${courseId}/lineitems/${itemId}/lineitem`, { type_id: typeId }),
  };
}

/** The AGS JSON of a line item, Moodle-shaped: `resourceId` and `tag` always, "" when unset. */
export function lineItemJson(item: LineItem, url: string): Record<string, unknown> {
  return {
    id: url,
    label: item.label,
    scoreMaximum: item.scoreMaximum,
    resourceId: item.resourceId,
    tag: item.tag,
    ...(item.resourceLinkId !== undefined ? { resourceLinkId: item.resourceLinkId } : {}),
    ...(item.startDateTime !== undefined ? { startDateTime: item.startDateTime } : {}),
    ...(item.endDateTime !== undefined ? { endDateTime: item.endDateTime } : {}),
    ...(item.gradesReleased !== undefined ? { gradesReleased: item.gradesReleased } : {}),
  };
}

const PATH = "/mod/lti/services.php/:course/lineitems";

export function mountAgs(app: Hono, ctx: ServiceContext, gradebook: Gradebook): void {
  const urls = agsUrls(ctx);

  /** Token, scope, type_id and course, in that order; the tool and course id when all pass. */
  function gate(
    c: Context,
    anyOf: readonly string[],
  ):
    | { ok: true; tool: RegisteredTool; courseId: string }
    | { ok: false; response: Response; tool: RegisteredTool | undefined } {
    const auth = authorize(c, ctx, anyOf);
    if (!auth.ok) return { ...auth, tool: undefined };
    const tool = auth.tool;
    const refuse = (status: number, code: string, description: string) => ({
      ok: false as const,
      response: serviceError(c, status, code, description),
      tool,
    });
    const typeId = c.req.query("type_id");
    if (!typeId) return refuse(400, "invalid_request", "type_id is required.");
    if (typeId !== tool.deploymentId) {
      return ctx.tools.find(typeId)
        ? refuse(403, "forbidden", `The access token is for type_id ${tool.deploymentId}, not ${typeId}.`)
        : refuse(404, "not_found", `There is no tool with type_id "${typeId}".`);
    }
    const courseId = c.req.param("course") ?? "";
    if (ctx.directory.course(courseId)?.id !== courseId) {
      return refuse(404, "not_found", `There is no course ${courseId}.`);
    }
    return { ok: true, tool, courseId };
  }

  function ownItem(c: Context, courseId: string, tool: RegisteredTool) {
    const id = c.req.param("item") ?? "";
    const item = gradebook.lineItem(courseId, id);
    return item && item.tool === tool.clientId ? item : undefined;
  }

  function checkLink(courseId: string, tool: RegisteredTool, linkId: string | undefined): string | undefined {
    if (linkId === undefined) return undefined;
    const link = ctx.directory.linkById(linkId);
    if (!link || link.courseId !== courseId || (link.tool ?? ctx.tools.first.clientId) !== tool.clientId) {
      return `resourceLinkId ${linkId} is not one of this tool's links in course ${courseId}.`;
    }
    return undefined;
  }

  async function readJson(
    c: Context,
  ): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
    try {
      return { ok: true, value: JSON.parse(await c.req.text()) };
    } catch {
      return { ok: false, response: serviceError(c, 400, "invalid_request", "The body is not JSON.") };
    }
  }

  app.get(PATH, (c) => {
    const gate_ = gate(c, [SCOPE.lineItem, SCOPE.lineItemReadOnly]);
    if (!gate_.ok) return gate_.response;
    if (!accepts(c.req.header("accept"), MEDIA_TYPE.lineItemContainer)) {
      return serviceError(c, 406, "not_acceptable", `Accept ${MEDIA_TYPE.lineItemContainer}.`);
    }
    const page = pageQuery(c, undefined);
    if (!page.ok) return serviceError(c, 400, "invalid_request", page.message);
    const resourceId = c.req.query("resource_id");
    const resourceLinkId = c.req.query("resource_link_id");
    const tag = c.req.query("tag");
    const matching = gradebook
      .lineItems(gate_.courseId)
      .filter((i) => i.tool === gate_.tool.clientId)
      .filter((i) => resourceId === undefined || i.resourceId === resourceId)
      .filter((i) => resourceLinkId === undefined || i.resourceLinkId === resourceLinkId)
      .filter((i) => tag === undefined || i.tag === tag);
    const { items, link } = paginate(matching, page, publicUrl(c, ctx), ["first", "prev", "next", "last"]);
    if (link) c.header("Link", link);
    const body = items.map((i) => lineItemJson(i, urls.lineItem(i.courseId, i.id, gate_.tool.deploymentId)));
    return json(c, 200, body, MEDIA_TYPE.lineItemContainer);
  });

  app.post(PATH, async (c) => {
    const gate_ = gate(c, [SCOPE.lineItem]);
    if (!gate_.ok) return gate_.response;
    if (mediaTypeOf(c.req.header("content-type")) !== MEDIA_TYPE.lineItem) {
      return serviceError(c, 415, "unsupported_media_type", `POST a line item as ${MEDIA_TYPE.lineItem}.`);
    }
    const body = await readJson(c);
    if (!body.ok) return body.response;
    const parsed = LineItemBody.safeParse(body.value);
    if (!parsed.success) return serviceError(c, 400, "invalid_request", issues(parsed.error));
    const badLink = checkLink(gate_.courseId, gate_.tool, parsed.data.resourceLinkId);
    if (badLink) return serviceError(c, 400, "invalid_request", badLink);
    const item = gradebook.add({
      courseId: gate_.courseId,
      tool: gate_.tool.clientId,
      label: parsed.data.label,
      scoreMaximum: parsed.data.scoreMaximum,
      resourceId: parsed.data.resourceId ?? "",
      tag: parsed.data.tag ?? "",
      resourceLinkId: parsed.data.resourceLinkId,
      startDateTime: parsed.data.startDateTime,
      endDateTime: parsed.data.endDateTime,
      gradesReleased: parsed.data.gradesReleased,
    });
    const url = urls.lineItem(item.courseId, item.id, gate_.tool.deploymentId);
    c.header("Location", url);
    return json(c, 201, lineItemJson(item, url), MEDIA_TYPE.lineItem);
  });

  const ITEM = `${PATH}/:item/lineitem`;

  app.get(ITEM, (c) => {
    const gate_ = gate(c, [SCOPE.lineItem, SCOPE.lineItemReadOnly]);
    if (!gate_.ok) return gate_.response;
    const item = ownItem(c, gate_.courseId, gate_.tool);
    if (!item) return serviceError(c, 404, "not_found", "No such line item for this tool.");
    if (!accepts(c.req.header("accept"), MEDIA_TYPE.lineItem)) {
      return serviceError(c, 406, "not_acceptable", `Accept ${MEDIA_TYPE.lineItem}.`);
    }
    return json(
      c,
      200,
      lineItemJson(item, urls.lineItem(item.courseId, item.id, gate_.tool.deploymentId)),
      MEDIA_TYPE.lineItem,
    );
  });

  app.put(ITEM, async (c) => {
    const gate_ = gate(c, [SCOPE.lineItem]);
    if (!gate_.ok) return gate_.response;
    const item = ownItem(c, gate_.courseId, gate_.tool);
    if (!item) return serviceError(c, 404, "not_found", "No such line item for this tool.");
    if (mediaTypeOf(c.req.header("content-type")) !== MEDIA_TYPE.lineItem) {
      return serviceError(c, 415, "unsupported_media_type", `PUT a line item as ${MEDIA_TYPE.lineItem}.`);
    }
    const body = await readJson(c);
    if (!body.ok) return body.response;
    const parsed = LineItemBody.safeParse(body.value);
    if (!parsed.success) return serviceError(c, 400, "invalid_request", issues(parsed.error));
    const url = urls.lineItem(item.courseId, item.id, gate_.tool.deploymentId);
    if (parsed.data.id !== undefined && parsed.data.id !== url) {
      return serviceError(c, 400, "invalid_request", `id must be the line item's URL (${url}) or absent.`);
    }
    const badLink = checkLink(gate_.courseId, gate_.tool, parsed.data.resourceLinkId);
    if (badLink) return serviceError(c, 400, "invalid_request", badLink);
    const updated: LineItem = {
      ...item,
      label: parsed.data.label,
      scoreMaximum: parsed.data.scoreMaximum,
      resourceId: parsed.data.resourceId ?? item.resourceId,
      tag: parsed.data.tag ?? item.tag,
      resourceLinkId: parsed.data.resourceLinkId ?? item.resourceLinkId,
      startDateTime: parsed.data.startDateTime ?? item.startDateTime,
      endDateTime: parsed.data.endDateTime ?? item.endDateTime,
      gradesReleased: parsed.data.gradesReleased ?? item.gradesReleased,
    };
    gradebook.replace(updated);
    return json(c, 200, lineItemJson(updated, url), MEDIA_TYPE.lineItem);
  });

  app.delete(ITEM, (c) => {
    const gate_ = gate(c, [SCOPE.lineItem]);
    if (!gate_.ok) return gate_.response;
    const item = ownItem(c, gate_.courseId, gate_.tool);
    if (!item) return serviceError(c, 404, "not_found", "No such line item for this tool.");
    gradebook.remove(item.id);
    return c.body(null, 204);
  });

  // A tool that appended /scores after the query string (…/lineitem?type_id=1/scores) POSTs
  // to the line item itself: nothing is there.
  app.post(ITEM, (c) =>
    serviceError(
      c,
      404,
      "not_found",
      "Nothing takes a POST here. Scores go to {lineitem}/scores with /scores inserted in the path, before the query string (…/lineitem/scores?type_id=N).",
    ),
  );

  app.post(`${ITEM}/scores`, async (c) => {
    const raw = await c.req.text();
    const contentType = c.req.header("content-type");
    let parsedJson: unknown;
    try {
      parsedJson = JSON.parse(raw);
    } catch {
      parsedJson = undefined;
    }
    let tool: string | undefined;
    const answer = (status: number, applied: boolean, error: string | undefined, response: Response) => {
      gradebook.record({
        at: ctx.now(),
        url: publicUrl(c, ctx),
        courseId: c.req.param("course") ?? "",
        lineItemId: c.req.param("item") ?? "",
        tool,
        contentType,
        body: raw,
        json: parsedJson,
        status,
        applied,
        error,
      });
      return response;
    };
    const refuse = (status: number, code: string, description: string) =>
      answer(status, false, description, serviceError(c, status, code, description));

    const gate_ = gate(c, [SCOPE.score]);
    tool = gate_.tool?.clientId;
    if (!gate_.ok) return answer(gate_.response.status, false, "refused: see the response", gate_.response);
    const item = ownItem(c, gate_.courseId, gate_.tool);
    if (!item) return refuse(404, "not_found", "No such line item for this tool.");
    if (mediaTypeOf(contentType) !== MEDIA_TYPE.score) {
      return refuse(
        415,
        "unsupported_media_type",
        `POST a score as ${MEDIA_TYPE.score}, not ${contentType ?? "nothing"}.`,
      );
    }
    if (parsedJson === undefined) return refuse(400, "invalid_request", "The body is not JSON.");
    const parsed = ScoreBody.safeParse(parsedJson);
    if (!parsed.success)
      return refuse(400, "invalid_request", `Incorrect score received: ${issues(parsed.error)}`);
    const score = parsed.data;
    const enrolled = ctx.directory.enrolment(gate_.courseId, score.userId);
    if (!enrolled) {
      return refuse(
        400,
        "invalid_request",
        `Incorrect score received: user ${score.userId} is not in course ${gate_.courseId}.`,
      );
    }
    const previous = gradebook.entry(item.id, score.userId);
    if (previous && Date.parse(previous.timestamp) >= Date.parse(score.timestamp)) {
      return refuse(
        409,
        "conflict",
        `Refusing score with an earlier timestamp for item ${item.id} and user ${score.userId} (last: ${previous.timestamp}).`,
      );
    }
    const scoreMaximum = score.scoreMaximum ?? 1;
    const graded = score.gradingProgress === "FullyGraded" && score.scoreGiven !== undefined;
    gradebook.setEntry({
      lineItemId: item.id,
      userId: score.userId,
      scoreGiven: score.scoreGiven,
      scoreMaximum,
      grade: graded ? ((score.scoreGiven ?? 0) / scoreMaximum) * item.scoreMaximum : null,
      activityProgress: score.activityProgress,
      gradingProgress: score.gradingProgress,
      timestamp: score.timestamp,
      comment: score.comment,
    });
    return answer(200, true, undefined, c.body(null, 200));
  });

  app.get(`${ITEM}/results`, (c) => {
    const gate_ = gate(c, [SCOPE.resultReadOnly]);
    if (!gate_.ok) return gate_.response;
    const item = ownItem(c, gate_.courseId, gate_.tool);
    if (!item) return serviceError(c, 404, "not_found", "No such line item for this tool.");
    const page = pageQuery(c, undefined);
    if (!page.ok) return serviceError(c, 400, "invalid_request", page.message);
    const userId = c.req.query("user_id");
    const itemUrl = urls.lineItem(item.courseId, item.id, gate_.tool.deploymentId);
    const results = gradebook
      .grades(item.courseId)
      .filter((e) => e.lineItemId === item.id && (userId === undefined || e.userId === userId))
      .map((e) => {
        const id = new URL(itemUrl);
        id.pathname += "/results";
        id.searchParams.set("user_id", e.userId);
        return {
          id: id.toString(),
          scoreOf: itemUrl,
          userId: e.userId,
          ...(e.grade !== null ? { resultScore: e.grade, resultMaximum: item.scoreMaximum } : {}),
          ...(e.comment !== undefined ? { comment: e.comment } : {}),
          timestamp: e.timestamp,
        };
      });
    const { items, link } = paginate(results, page, publicUrl(c, ctx), ["next"]);
    if (link) c.header("Link", link);
    return json(c, 200, items, MEDIA_TYPE.resultContainer);
  });
}
