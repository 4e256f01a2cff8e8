/**
 * What the LTI Advantage service endpoints (AGS, NRPS) share: the context they run in, JSON
 * answers with the services' media types, the bearer-token check, and paging with `limit` /
 * `from` and an RFC 8288 `Link` header, as Moodle pages.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { PlatformDirectory } from "./seed.js";
import type { TokenService } from "./token.js";
import type { RegisteredTool, ToolRegistry } from "./tools.js";

export interface ServiceContext {
  readonly tokens: TokenService;
  readonly tools: ToolRegistry;
  readonly directory: PlatformDirectory;
  readonly now: () => number;
  /** An absolute URL on the platform for a path below the site (`/mod/lti/...`). */
  readonly at: (path: string, query?: Record<string, string | undefined>) => string;
}

/** A JSON body with the given media type (headers set with `c.header()` are kept). */
export function json(c: Context, status: number, body: unknown, mediaType = "application/json"): Response {
  c.header("Cache-Control", "no-store");
  return c.body(JSON.stringify(body), status as ContentfulStatusCode, { "Content-Type": mediaType });
}

export function serviceError(c: Context, status: number, error: string, description: string): Response {
  return json(c, status, { error, error_description: description });
}

/** The tool behind a valid bearer token holding one of `anyOf`, or the 401/403 to answer. */
export function authorize(
  c: Context,
  ctx: ServiceContext,
  anyOf: readonly string[],
): { ok: true; tool: RegisteredTool } | { ok: false; response: Response } {
  const check = ctx.tokens.checkBearer(c.req.header("authorization"), anyOf);
  if (check.ok) return { ok: true, tool: check.tool };
  const challenge =
    check.status === 401
      ? `Bearer error="${check.error}", error_description="${check.description.replaceAll('"', "'")}"`
      : `Bearer error="insufficient_scope", scope="${anyOf.join(" ")}"`;
  c.header("WWW-Authenticate", challenge);
  return { ok: false, response: serviceError(c, check.status, check.error, check.description) };
}

/** The media type of a Content-Type or Accept entry, without parameters, lower case. */
export function mediaTypeOf(header: string | undefined): string {
  return (header ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** Whether an Accept header allows the media type (absent, `*\/*`, JSON, or the type itself). */
export function accepts(accept: string | undefined, mediaType: string): boolean {
  if (!accept?.trim()) return true;
  const types = accept.split(",").map((part) => mediaTypeOf(part));
  return types.some(
    (t) => t === mediaType || t === "*/*" || t === "application/*" || t === "application/json",
  );
}

export type PageQuery =
  | { ok: true; limit: number | undefined; from: number }
  | { ok: false; message: string };

/** `limit` (positive) and `from` (offset, 0 or more), as Moodle's services read them. */
export function pageQuery(c: Context, defaultLimit: number | undefined): PageQuery {
  const rawLimit = c.req.query("limit");
  const rawFrom = c.req.query("from");
  const limit = rawLimit === undefined ? defaultLimit : Number(rawLimit);
  const from = rawFrom === undefined ? 0 : Number(rawFrom);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) {
    return { ok: false, message: "limit must be a whole number from 1 to 1000" };
  }
  if (!Number.isInteger(from) || from < 0)
    return { ok: false, message: "from must be a whole number, 0 or more" };
  return { ok: true, limit, from };
}

/** One page of `items` and the `Link` header for the others (RFC 8288). */
export function paginate<T>(
  items: readonly T[],
  page: { limit: number | undefined; from: number },
  requestUrl: string,
  rels: readonly ("first" | "prev" | "next" | "last")[],
): { items: T[]; link: string | undefined } {
  if (page.limit === undefined) return { items: items.slice(page.from), link: undefined };
  const { limit, from } = page;
  const at = (offset: number) => {
    const url = new URL(requestUrl);
    url.searchParams.set("limit", String(limit));
    url.searchParams.set("from", String(offset));
    return url.toString();
  };
  const links: string[] = [];
  const lastFrom = items.length === 0 ? 0 : Math.floor((items.length - 1) / limit) * limit;
  for (const rel of rels) {
    if (rel === "first") links.push(`<${at(0)}>; rel="first"`);
    if (rel === "prev" && from > 0) links.push(`<${at(Math.max(0, from - limit))}>; rel="prev"`);
    if (rel === "next" && from + limit < items.length) links.push(`<${at(from + limit)}>; rel="next"`);
    if (rel === "last") links.push(`<${at(lastFrom)}>; rel="last"`);
  }
  return { items: items.slice(from, from + limit), link: links.length > 0 ? links.join(", ") : undefined };
}

/** The request URL as the platform's public base URL spells it (it may sit behind a proxy). */
export function publicUrl(c: Context, ctx: ServiceContext): string {
  const url = new URL(c.req.url);
  const base = new URL(ctx.at("/"));
  url.protocol = base.protocol;
  url.host = base.host;
  return url.toString();
}
