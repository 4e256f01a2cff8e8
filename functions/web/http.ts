import type { Context } from "hono";
import { ValidationError } from "../../domain/errors.js";
import { sha256b64url } from "../../lti-tool/crypto.js";
import type { Session } from "../../lti-tool/session.js";
import type { AppDeps } from "./deps.js";

export type Env = {
  Variables: {
    session: Session;
    reference: string;
    /** Set for an administrator's request: every administration page, for the pages' navigation. */
    adminPages?: readonly { path: string; title: string }[];
    /** Set for an administrator's request: when the sign-in ends (seconds since the epoch). */
    adminUntil?: number;
  };
};

export function baseUrl(c: Context, deps: AppDeps): string {
  return deps.config.publicUrl ?? new URL(c.req.url).origin;
}

export function toolUrls(c: Context, deps: AppDeps) {
  return toolUrlsAt(baseUrl(c, deps));
}

/** The tool's public addresses under `b` (its origin): what an LMS administrator enters. */
export function toolUrlsAt(b: string) {
  return {
    base: b,
    login: `${b}/lti/login`,
    loginCheck: `${b}/lti/login/check`,
    launch: `${b}/lti/launch`,
    jwks: `${b}/.well-known/jwks.json`,
    registration: `${b}/lti/register`,
    /** A registration link: the address an LMS registers through, with the link's secret part. */
    registrationLink: (token: string) => `${b}/lti/register/${encodeURIComponent(token)}`,
    canvasConfig: `${b}/lti/canvas.json`,
    targetLinkUri: `${b}/app`,
    deepLinking: `${b}/lti/deep-link`,
    deepLinkRespond: `${b}/lti/deep-link/respond`,
    activity: (id: string) => `${b}/app/activity/${encodeURIComponent(id)}`,
  };
}

/**
 * The state cookie: one per login, so several launches can run at once in one browser. Named by
 * a hash of the state, since sealed states share their first characters (the JWT header).
 */
export const stateCookieName = (state: string) => `hlta_lti_${sha256b64url(state).slice(0, 16)}`;

/** Platform Storage key for a login's browser secret. */
export const storageKey = (state: string) => `hlta_state_${sha256b64url(state).slice(0, 32)}`;

/**
 * Set once the tool has seen its own cookie come back inside the LMS's frame (this browser, this
 * LMS): later logins skip the cookie check's extra round trip. Without it, the check runs.
 */
export const COOKIES_WORK_COOKIE = "hlta_lti_ok";

/** A form post's media type (case-insensitive, RFC 9110 §8.3.1), or undefined for anything else. */
function formMediaType(c: Context): "application/x-www-form-urlencoded" | "multipart/form-data" | undefined {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  return type === "application/x-www-form-urlencoded" || type === "multipart/form-data" ? type : undefined;
}

export async function formFields(c: Context): Promise<Record<string, string | string[]>> {
  const mediaType = formMediaType(c);
  if (!mediaType) throw new ValidationError("Expected a form post (application/x-www-form-urlencoded).");
  const unreadable = () =>
    // A multipart body without its boundary, or cut short: the sender's mistake, not ours.
    new ValidationError(
      "The form could not be read: its body does not match its content type. Please submit the form again.",
    );
  const out: Record<string, string | string[]> = {};
  const add = (k: string, v: string | string[]) => {
    // A field named __proto__ means nothing here, and assigning it would replace out's prototype.
    if (k !== "__proto__") out[k] = v;
  };
  if (mediaType === "application/x-www-form-urlencoded") {
    // Read as text and split by URLSearchParams (the urlencoded parser Request.formData() uses),
    // with hono's rules for repeated fields and `name[]`: hono's parseBody makes a Response and
    // FormData for it, and the Node server a whole Request, on every login and launch.
    let text: string;
    try {
      text = await c.req.text();
    } catch {
      throw unreadable();
    }
    for (const [k, v] of new URLSearchParams(text)) {
      const had = Object.hasOwn(out, k) ? out[k] : undefined;
      if (had === undefined) add(k, k.endsWith("[]") ? [v] : v);
      else if (Array.isArray(had)) had.push(v);
      else add(k, [had, v]);
    }
    return out;
  }
  let body: Awaited<ReturnType<typeof c.req.parseBody>>;
  try {
    body = await c.req.parseBody({ all: true });
  } catch {
    throw unreadable();
  }
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === "string") add(k, v);
    else if (Array.isArray(v))
      add(
        k,
        v.filter((x): x is string => typeof x === "string"),
      );
  }
  return out;
}

/** Form fields with single values only (a repeated field keeps its first value). */
export async function singleFormFields(c: Context): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(await formFields(c))) {
    const value = Array.isArray(v) ? v[0] : v;
    if (value !== undefined) out[k] = value;
  }
  return out;
}

/**
 * The signed token a page request carries (LTI session or admin session): query `s`, a Bearer
 * header, or the hidden form field `s` of a form post. Undefined when none came.
 */
export async function sessionTokenFrom(c: Context): Promise<string | undefined> {
  const header = c.req.header("authorization");
  const token = c.req.query("s") ?? (header?.startsWith("Bearer ") ? header.slice(7) : undefined);
  if (token || c.req.method !== "POST") return token;
  if (!formMediaType(c)) return undefined;
  // Hono caches the parsed body, so the route handler can read the form again.
  return (await singleFormFields(c)).s;
}
