import * as z from "../../domain/zod.js";
import type { PlatformRegistration } from "../ports.js";
import { primaryRole, type ToolRole } from "../roles.js";
import {
  type PlatformServiceClient,
  PlatformServiceError,
  SCOPES,
  safeJson,
  serviceBody,
  statusText,
} from "./service-client.js";

export const MEMBERSHIP_MEDIA = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json";

// Built on first use: a launch asks for no members (a tutor's cohort page does).
const MemberSchema = z.lazySchema(() =>
  z.object({
    user_id: z.string().check(z.minLength(1)),
    status: z.optional(z.enum(["Active", "Inactive", "Deleted"])),
    name: z.optional(z.string()),
    given_name: z.optional(z.string()),
    family_name: z.optional(z.string()),
    email: z.optional(z.string()),
    // Moodle sends short names here ("Learner") but full URIs in the id_token (lti.md).
    roles: z.array(z.string()),
  }),
);
const ContainerSchema = z.lazySchema(() =>
  z.object({
    id: z.optional(z.string()),
    context: z.optional(
      z.object({ id: z.string(), label: z.optional(z.string()), title: z.optional(z.string()) }),
    ),
    // Each member is read on its own below: one odd entry does not hide the class.
    members: z.array(z.unknown()),
  }),
);

export interface CourseMember {
  userId: string;
  name?: string;
  email?: string;
  status: "Active" | "Inactive" | "Deleted";
  ltiRoles: string[];
  role: ToolRole | undefined;
}

/** NRPS 2.0 context memberships, every page (`Link: rel="next"`), bounded. */
export class NrpsClient {
  constructor(
    private readonly client: PlatformServiceClient,
    private readonly maxPages = 200,
    /** A course past this is not a class the cohort page can show; refused plainly. */
    private readonly maxMembers = 20_000,
  ) {}

  /**
   * Every member, page by page. With `signal` (a page a tutor waits for), no further page is
   * asked for once it has aborted: the caller has stopped waiting.
   */
  async members(
    platform: PlatformRegistration,
    membershipsUrl: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<CourseMember[]> {
    const out: CourseMember[] = [];
    const pages = pagesOf(membershipsUrl, this.maxPages, "course members", (url) => {
      options.signal?.throwIfAborted();
      return this.client.call(platform, [SCOPES.memberships], url, {
        headers: { accept: MEMBERSHIP_MEDIA },
        // The page's own request stops too, with its retries, when the caller stops waiting.
        ...(options.signal ? { signal: options.signal } : {}),
      });
    });
    for await (const res of pages) {
      const text = await serviceBody(res, "the list of course members");
      if (!res.ok) {
        throw new PlatformServiceError(
          `The LMS would not list the course members (${statusText(res)}).`,
          res.status,
          res.status === 429 || res.status >= 500,
          text.slice(0, 2000),
        );
      }
      const parsed = ContainerSchema().safeParse(safeJson(text));
      if (!parsed.success) {
        throw new PlatformServiceError(
          "The LMS listed the course members in a form the tool cannot read.",
          res.status,
          false,
          text.slice(0, 2000),
        );
      }
      for (const raw of parsed.data.members) {
        const member = MemberSchema().safeParse(raw);
        if (!member.success) continue;
        const m = member.data;
        out.push({
          userId: m.user_id,
          ...(m.name
            ? { name: m.name }
            : m.given_name || m.family_name
              ? { name: [m.given_name, m.family_name].filter(Boolean).join(" ") }
              : {}),
          ...(m.email ? { email: m.email } : {}),
          status: m.status ?? "Active",
          ltiRoles: m.roles,
          role: primaryRole(m.roles),
        });
      }
      if (out.length > this.maxMembers) {
        throw new PlatformServiceError(
          `The LMS lists more than ${this.maxMembers} members in this course, more than the cohort page shows.`,
          res.status,
          false,
          "",
        );
      }
    }
    return out;
  }
}

/** A paged list went on past the pages the tool reads: what was read is not the whole list. */
export class TooManyPagesError extends PlatformServiceError {
  override readonly code = "lti.service_too_many_pages";
}

/** A paged list's next page is where the tool will not send its token: what was read is not the whole list. */
export class UnfollowablePageError extends PlatformServiceError {
  override readonly code = "lti.service_page_elsewhere";
}

/**
 * The pages of a paged LTI service (NRPS memberships, AGS line items), each asked for by `read`:
 * the first, then each `Link: rel="next"` on the same site only (a page carries the tool's access
 * token), never one twice. Past `maxPages`, with a next page still to read, TooManyPagesError
 * (not retried): a list cut short must never pass for the whole list.
 */
export async function* pagesOf(
  first: string,
  maxPages: number,
  what: string,
  read: (url: string) => Promise<Response>,
): AsyncGenerator<Response> {
  const visited = new Set<string>();
  for (let url: string | undefined = first; url && !visited.has(url); ) {
    if (visited.size >= maxPages) {
      throw new TooManyPagesError(
        `The LMS lists the ${what} on more than ${maxPages} pages, more than the tool reads.`,
        undefined,
        false,
        "",
        { context: { first, maxPages } },
      );
    }
    visited.add(url);
    const res = await read(url);
    yield res;
    const header = res.headers.get("link");
    const target = nextTarget(header);
    if (target === undefined) return;
    const next = resolvedLink(target, url, { sameOrigin: true });
    // A next page named but refused (another site, or no address at all) is not the list's end.
    if (next === undefined) {
      throw new UnfollowablePageError(
        `The LMS lists the ${what} on several pages, and names the next one on another site (or at no valid address): the tool sends its access token only to the LMS's own site, so it cannot read the whole list. Tell the LMS's administrator.`,
        undefined,
        false,
        "",
        { context: { first, page: url, link: header?.slice(0, 500) } },
      );
    }
    url = next;
  }
}

/** `<target>; param; param` links of an RFC 8288 Link header (a comma inside `<…>` or quotes is not a separator). */
const LINK = /<([^>]*)>((?:\s*;\s*[^;,=\s]+(?:\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^;,\s]*))?)*)/g;
const REL = /;\s*rel\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,\s]*))/i;

/**
 * The `rel="next"` target of an RFC 8288 Link header as written, undefined when there is none.
 * A rel is a space-separated list of exact names: `next-archive` is not `next`.
 */
function nextTarget(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const [, target = "", params = ""] of header.matchAll(LINK)) {
    const rel = REL.exec(params);
    const names = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
    if (names.includes("next")) return target;
  }
  return undefined;
}

/** A link target resolved against the request URL; with `sameOrigin`, undefined on another site (or unparsable). */
function resolvedLink(target: string, base: string, options: { sameOrigin?: boolean }): string | undefined {
  if (!URL.canParse(target, base)) return undefined;
  const next = new URL(target, base);
  if (options.sameOrigin && next.origin !== new URL(base).origin) return undefined;
  return next.toString();
}

/**
 * The `rel="next"` target of an RFC 8288 Link header, resolved against the request URL;
 * with `sameOrigin`, undefined when it points to another site (or does not parse).
 */
export function nextLink(
  header: string | null,
  base: string,
  options: { sameOrigin?: boolean } = {},
): string | undefined {
  const target = nextTarget(header);
  return target === undefined ? undefined : resolvedLink(target, base, options);
}
