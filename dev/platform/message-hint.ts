/**
 * `lti_message_hint`: opaque to the tool, which must send it back unchanged to the auth
 * endpoint (LTI Core §4.1.1). Moodle keeps the launch in its PHP session and sends an id; the
 * development platform has no login session, so the hint itself names the launch (tool, user,
 * course, link, message type, presentation), is HMAC-signed so the browser cannot change it,
 * expires, and is single-use, as Moodle's session entry is (auth.php unsets it).
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import * as z from "zod";
import { MESSAGE_TYPE } from "./claims.js";

export const DocumentTargetSchema = z.enum(["iframe", "window"]);
export type DocumentTarget = z.infer<typeof DocumentTargetSchema>;

export const LaunchHintSchema = z.object({
  /** Single-use id. */
  jti: z.string().min(1),
  /** The client_id of the tool launched. */
  tool: z.string().min(1),
  user: z.string().min(1),
  course: z.string().min(1),
  /** The resource link; absent for a deep-linking request, which has none. */
  link: z.string().min(1).optional(),
  messageType: z.enum([MESSAGE_TYPE.resourceLink, MESSAGE_TYPE.deepLinking]),
  target: DocumentTargetSchema,
  /** Expiry, epoch milliseconds. */
  exp: z.number().int(),
});
export type LaunchHint = z.infer<typeof LaunchHintSchema>;

export type HintRejection = "malformed" | "bad_signature" | "expired" | "already_used";

export interface MessageHintCodecOptions {
  /** HMAC key; a fresh random one per platform instance by default. */
  readonly secret?: Uint8Array;
  readonly now?: () => number;
  /** How long a started launch may wait for the auth request. */
  readonly ttlMs?: number;
}

export class MessageHintCodec {
  private readonly secret: Uint8Array;
  private readonly now: () => number;
  private readonly ttlMs: number;
  /** Issued, not yet used hints: jti → expiry. Insertion order is expiry order. */
  private readonly outstanding = new Map<string, number>();

  constructor(options: MessageHintCodecOptions = {}) {
    this.secret = options.secret ?? randomBytes(32);
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
  }

  issue(launch: Omit<LaunchHint, "jti" | "exp">): string {
    this.prune();
    const hint: LaunchHint = { ...launch, jti: randomUUID(), exp: this.now() + this.ttlMs };
    this.outstanding.set(hint.jti, hint.exp);
    const body = Buffer.from(JSON.stringify(hint)).toString("base64url");
    return `${body}.${this.mac(body)}`;
  }

  /** Verifies and consumes a hint: a second `open` of the same hint is `already_used`. */
  open(token: string): { ok: true; hint: LaunchHint } | { ok: false; reason: HintRejection } {
    const [body, mac, extra] = token.split(".");
    if (!body || !mac || extra !== undefined) return { ok: false, reason: "malformed" };
    const expected = Buffer.from(this.mac(body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: "bad_signature" };
    }
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
    } catch {
      return { ok: false, reason: "malformed" };
    }
    const parsed = LaunchHintSchema.safeParse(json);
    if (!parsed.success) return { ok: false, reason: "malformed" };
    if (parsed.data.exp <= this.now()) return { ok: false, reason: "expired" };
    if (!this.outstanding.delete(parsed.data.jti)) return { ok: false, reason: "already_used" };
    return { ok: true, hint: parsed.data };
  }

  private mac(body: string): string {
    return createHmac("sha256", this.secret).update(body).digest("base64url");
  }

  private prune(): void {
    const now = this.now();
    for (const [jti, exp] of this.outstanding) {
      if (exp > now) break;
      this.outstanding.delete(jti);
    }
  }
}
