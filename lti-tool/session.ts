import type { CourseRef } from "../domain/tenancy.js";
import * as z from "../domain/zod.js";
import { InvalidSessionError, LaunchTooLargeError } from "./errors.js";
import { Hs256Error, MAX_TOKEN_LENGTH, signHs256, verifyHs256 } from "./hs256.js";
import type { ToolRole } from "./roles.js";

/**
 * After a launch the session travels as a short-lived signed token in links, forms and fetch
 * headers, never as a third-party cookie (lti.md, "Cookies and iframes"). HS256 with a tool
 * secret: only this tool issues and reads it.
 */
export const SessionSchema = z.object({
  iss: z.string(),
  cid: z.string(),
  dep: z.string(),
  ctx: z.string(),
  sub: z.string(),
  role: z.enum(["candidate", "tutor", "administrator"]),
  name: z.optional(z.string()),
  loc: z.optional(z.string()),
  /** The course title, shown in the page header. */
  ctt: z.optional(z.string()),
  /** The activity the launch targets (deep-linked activity id, or "home"). */
  act: z.optional(z.string()),
  /** Resource link id of the launch. */
  rl: z.optional(z.string()),
});
export type SessionClaims = z.infer<typeof SessionSchema>;

export interface Session {
  course: CourseRef;
  userId: string;
  role: ToolRole;
  name?: string;
  locale?: string;
  courseTitle?: string;
  activity?: string;
  resourceLinkId?: string;
}

const ISSUER = "hlta-tool";
/** Characters of a name or course title the session keeps (the page header shows them). */
const SHOWN_TEXT = 200;

/**
 * Session tokens travel in URLs: API Gateway's HTTP API refuses a request line and headers over
 * 10,240 bytes, so a session token stays under 8,000 characters. Sealed values posted in forms
 * may use all of MAX_TOKEN_LENGTH.
 */
const URL_TOKEN_LENGTH = 8_000;

/** The first `max` characters, without cutting a character in two (a surrogate pair). */
const clipped = (text: string, max: number) =>
  text.length <= max ? text : Array.from(text).slice(0, max).join("");

/**
 * A token the tool can open again and that can travel where it goes: one longer would fail
 * later, as "expired" or at the gateway, blaming the person. Said now, plainly, instead.
 */
function fitting(token: string, maxLength = MAX_TOKEN_LENGTH): string {
  if (token.length <= maxLength) return token;
  throw new LaunchTooLargeError(
    "Your LMS sent more with this launch than the tool can carry (very long names or deep-linking data).",
    { context: { tokenLength: token.length } },
  );
}
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
const AUDIENCE = "hlta-session";

export class SessionTokens {
  private loaded: Promise<Uint8Array> | undefined;

  constructor(
    /** The HMAC secret, or how to load it on first use (nothing on the import path touches the network). */
    private readonly secretSource: Uint8Array | (() => Promise<Uint8Array>),
    private readonly ttlSeconds = 60 * 60,
  ) {}

  private secret(): Promise<Uint8Array> {
    if (this.secretSource instanceof Uint8Array) return Promise.resolve(this.secretSource);
    this.loaded ??= this.secretSource().catch((error) => {
      this.loaded = undefined; // a failed load is retried by the next request
      throw error;
    });
    return this.loaded;
  }

  async issue(session: Session, now = new Date()): Promise<string> {
    const claims: SessionClaims = {
      iss: session.course.issuer,
      cid: session.course.clientId,
      dep: session.course.deploymentId,
      ctx: session.course.contextId,
      sub: session.userId,
      role: session.role,
      // Shown in the page header; cut so the token stays short enough for a URL.
      ...(session.name ? { name: clipped(session.name, SHOWN_TEXT) } : {}),
      ...(session.locale ? { loc: session.locale } : {}),
      ...(session.courseTitle ? { ctt: clipped(session.courseTitle, SHOWN_TEXT) } : {}),
      ...(session.activity ? { act: session.activity } : {}),
      ...(session.resourceLinkId ? { rl: session.resourceLinkId } : {}),
    };
    const iat = Math.floor(now.getTime() / 1000);
    // The LMS issuer lives in `iss` of our claims set; the JWT's own issuer is the tool.
    const { iss, ...rest } = claims;
    return fitting(
      signHs256(
        { ...rest, lti_iss: iss, iss: ISSUER, aud: AUDIENCE, iat, exp: iat + this.ttlSeconds },
        await this.secret(),
      ),
      URL_TOKEN_LENGTH,
    );
  }

  /**
   * Seal any small payload for a round trip through the browser, HS256, short-lived: in a form
   * field, or with `inUrl` in an address, where it must stay under URL_TOKEN_LENGTH.
   */
  async seal(
    audience: string,
    payload: Record<string, unknown>,
    ttlSeconds: number,
    now = new Date(),
    options: { inUrl?: boolean } = {},
  ): Promise<string> {
    const iat = Math.floor(now.getTime() / 1000);
    return fitting(
      signHs256({ ...payload, iss: ISSUER, aud: audience, iat, exp: iat + ttlSeconds }, await this.secret()),
      options.inUrl ? URL_TOKEN_LENGTH : MAX_TOKEN_LENGTH,
    );
  }

  /** Open a sealed payload; throws InvalidSessionError when forged, expired or for another audience. */
  async open(
    audience: string,
    token: string | undefined,
    now = new Date(),
  ): Promise<Record<string, unknown>> {
    if (!token) throw new InvalidSessionError("Please start again from your course in the LMS.");
    const secret = await this.secret();
    try {
      return verifyHs256(token, secret, { issuer: ISSUER, audience, nowSeconds: seconds(now) });
    } catch (cause) {
      throw new InvalidSessionError(
        "This page has expired. Please start again from your course in the LMS.",
        { cause },
      );
    }
  }

  async verify(token: string | undefined, now = new Date()): Promise<Session> {
    if (!token) throw new InvalidSessionError("Please open the tool from your course in the LMS.");
    let payload: Record<string, unknown>;
    const secret = await this.secret();
    try {
      payload = verifyHs256(token, secret, { issuer: ISSUER, audience: AUDIENCE, nowSeconds: seconds(now) });
    } catch (cause) {
      const expired = cause instanceof Hs256Error && cause.reason === "expired";
      throw new InvalidSessionError(
        expired
          ? "Your session has timed out. Please open the tool again from your course in the LMS; nothing you saved is lost."
          : "Your session could not be verified. Please open the tool again from your course in the LMS.",
        { cause },
      );
    }
    const parsed = SessionSchema.safeParse({ ...payload, iss: payload.lti_iss });
    if (!parsed.success) throw new InvalidSessionError("Your session is not valid. Please launch again.");
    const c = parsed.data;
    return {
      course: { issuer: c.iss, clientId: c.cid, deploymentId: c.dep, contextId: c.ctx },
      userId: c.sub,
      role: c.role,
      ...(c.name ? { name: c.name } : {}),
      ...(c.loc ? { locale: c.loc } : {}),
      ...(c.ctt ? { courseTitle: c.ctt } : {}),
      ...(c.act ? { activity: c.act } : {}),
      ...(c.rl ? { resourceLinkId: c.rl } : {}),
    };
  }
}
