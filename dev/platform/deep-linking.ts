/**
 * Deep Linking 2.0, the platform's half. A deep-linking launch opens a session whose return
 * URL is Moodle's `/mod/lti/contentitem_return.php?course=…&id=<type id>&sesskey=…`; the tool
 * answers by form-posting `JWT` there: a JWT it signs (RS256, `kid`) with iss = its client_id,
 * aud = the platform's issuer, a nonce, `LtiDeepLinkingResponse`, version 1.3.0, its
 * deployment_id, the request's `data` echoed exactly, and `content_items` of the accepted
 * type (`ltiResourceLink`). Each item becomes an activity in the course (and a line item when
 * it declares one), which then launches with its own resource link, URL and custom parameters.
 */
import { randomInt } from "node:crypto";
import type { JWTPayload, ProtectedHeaderParameters } from "jose";
import * as z from "zod";
import type { Gradebook, LineItem } from "./ags.js";
import { CLAIM, LTI_VERSION, MESSAGE_TYPE } from "./claims.js";
import type { DeepLinkingSettings } from "./id-token.js";
import type { PlatformDirectory, ResourceLink } from "./seed.js";
import type { RegisteredTool } from "./tools.js";

/** A deep-linking request waiting for its response; Moodle ties it to the session key. */
export interface DeepLinkingSession {
  readonly sesskey: string;
  readonly courseId: string;
  readonly userId: string;
  /** client_id of the tool. */
  readonly tool: string;
  readonly typeId: string;
  readonly data: string;
  readonly settings: DeepLinkingSettings;
  /** Epoch ms. */
  readonly expiresAt: number;
}

/** One deep-linking response received, decoded, and what the platform made of it. */
export interface DeepLinkingResponseRecord {
  readonly at: number;
  readonly courseId: string | undefined;
  /** client_id of the tool the session was for. */
  readonly tool: string | undefined;
  /** The `JWT` form field as posted. */
  readonly jwt: string;
  readonly header: ProtectedHeaderParameters | undefined;
  readonly claims: JWTPayload | undefined;
  readonly ok: boolean;
  readonly error: string | undefined;
  readonly links: readonly ResourceLink[];
  readonly lineItems: readonly LineItem[];
}

const SESSION_LIFETIME_MS = 60 * 60_000;

/** Moodle's `sesskey()`: 10 random characters. */
function sesskey(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  return Array.from({ length: 10 }, () => alphabet[randomInt(alphabet.length)]).join("");
}

export class DeepLinkingSessions {
  private readonly sessions = new Map<string, DeepLinkingSession>();
  /** Nonces of accepted responses, per tool: a response is accepted once. */
  private readonly nonces = new Set<string>();

  constructor(private readonly now: () => number) {}

  open(
    init: Omit<DeepLinkingSession, "sesskey" | "data" | "expiresAt" | "settings">,
    settings: (sesskey: string, data: string) => DeepLinkingSettings,
  ): DeepLinkingSession {
    this.prune();
    const key = sesskey();
    const data = `dl-${key}-${init.courseId}`;
    const session: DeepLinkingSession = {
      ...init,
      sesskey: key,
      data,
      settings: settings(key, data),
      expiresAt: this.now() + SESSION_LIFETIME_MS,
    };
    this.sessions.set(key, session);
    return session;
  }

  find(
    courseId: string | undefined,
    typeId: string | undefined,
    key: string | undefined,
  ): DeepLinkingSession | undefined {
    const session = key ? this.sessions.get(key) : undefined;
    if (!session || session.courseId !== courseId || session.typeId !== typeId) return undefined;
    return session.expiresAt > this.now() ? session : undefined;
  }

  /** Marks the response's nonce used; false when it was used before. */
  useNonce(tool: string, nonce: string): boolean {
    const key = `${tool}\n${nonce}`;
    if (this.nonces.has(key)) return false;
    this.nonces.add(key);
    return true;
  }

  close(key: string): void {
    this.sessions.delete(key);
  }

  private prune(): void {
    const now = this.now();
    for (const [key, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(key);
  }
}

const HttpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
const IsoDateTime = z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time with a time zone" });
const TimeSpan = z.looseObject({
  startDateTime: IsoDateTime.optional(),
  endDateTime: IsoDateTime.optional(),
});

/** An `ltiResourceLink` content item (Deep Linking 2.0 §3.1). */
const ResourceLinkItem = z.looseObject({
  type: z.literal("ltiResourceLink"),
  url: HttpUrl.optional(),
  title: z.string().optional(),
  text: z.string().optional(),
  icon: z.looseObject({ url: HttpUrl }).optional(),
  thumbnail: z.looseObject({ url: HttpUrl }).optional(),
  window: z.looseObject({ targetName: z.string().optional() }).optional(),
  iframe: z.looseObject({ width: z.number().optional(), height: z.number().optional() }).optional(),
  custom: z.record(z.string(), z.string({ error: "custom values must be strings" })).optional(),
  lineItem: z
    .looseObject({
      scoreMaximum: z.number({ error: "must be a number" }).positive("must be more than 0").finite(),
      label: z.string().optional(),
      resourceId: z.string().optional(),
      tag: z.string().optional(),
      gradesReleased: z.boolean().optional(),
    })
    .optional(),
  available: TimeSpan.optional(),
  submission: TimeSpan.optional(),
});
export type ResourceLinkContentItem = z.infer<typeof ResourceLinkItem>;

/** Checks the claims of a verified response against its session; the content items when all is well. */
export function checkDeepLinkingClaims(
  claims: JWTPayload,
  session: DeepLinkingSession,
  tool: RegisteredTool,
): { ok: true; items: ResourceLinkContentItem[] } | { ok: false; reason: string } {
  const fail = (reason: string) => ({ ok: false as const, reason });
  if (typeof claims.nonce !== "string" || !claims.nonce) return fail("nonce is missing");
  if (claims[CLAIM.messageType] !== MESSAGE_TYPE.deepLinkingResponse) {
    return fail(`${CLAIM.messageType} must be ${MESSAGE_TYPE.deepLinkingResponse}`);
  }
  if (claims[CLAIM.version] !== LTI_VERSION) return fail(`${CLAIM.version} must be ${LTI_VERSION}`);
  if (claims[CLAIM.deploymentId] !== tool.deploymentId) {
    return fail(`${CLAIM.deploymentId} must be "${tool.deploymentId}"`);
  }
  if (claims[CLAIM.deepLinkingData] !== session.data) {
    return fail(`${CLAIM.deepLinkingData} must echo the request's data exactly ("${session.data}")`);
  }
  const raw = claims[CLAIM.contentItems] ?? [];
  if (!Array.isArray(raw)) return fail(`${CLAIM.contentItems} must be an array`);
  const items: ResourceLinkContentItem[] = [];
  for (const [index, item] of raw.entries()) {
    const type = (item as { type?: unknown } | null)?.type;
    if (!session.settings.accept_types.includes(String(type))) {
      return fail(
        `content_items[${index}]: type "${String(type)}" is not accepted (accept_types: ltiResourceLink)`,
      );
    }
    const parsed = ResourceLinkItem.safeParse(item);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.map(String).join(".")} ${i.message}`).join("; ");
      return fail(`content_items[${index}]: ${why}`);
    }
    items.push(parsed.data);
  }
  return { ok: true, items };
}

/** Adds each item to the course as an activity of the tool, with its line item when declared. */
export function placeContentItems(
  items: readonly ResourceLinkContentItem[],
  session: DeepLinkingSession,
  tool: RegisteredTool,
  directory: PlatformDirectory,
  gradebook: Gradebook,
): { links: ResourceLink[]; lineItems: LineItem[] } {
  const links: ResourceLink[] = [];
  const lineItems: LineItem[] = [];
  for (const item of items) {
    const link = directory.addLink({
      courseId: session.courseId,
      title: item.title || tool.name,
      description: item.text ?? "",
      ...(item.url ? { targetLinkUri: item.url } : {}),
      custom: { ...item.custom },
      tool: tool.clientId,
    });
    links.push(link);
    if (item.lineItem) {
      lineItems.push(
        gradebook.add({
          courseId: session.courseId,
          tool: tool.clientId,
          label: item.lineItem.label || link.title,
          scoreMaximum: item.lineItem.scoreMaximum,
          resourceId: item.lineItem.resourceId ?? "",
          tag: item.lineItem.tag ?? "",
          resourceLinkId: link.id,
          startDateTime: item.submission?.startDateTime,
          endDateTime: item.submission?.endDateTime,
          gradesReleased: item.lineItem.gradesReleased,
        }),
      );
    }
  }
  return { links, lineItems };
}
