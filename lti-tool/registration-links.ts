import { AppError } from "../domain/errors.js";
import * as z from "../domain/zod.js";
import { randomToken, sha256b64url } from "./crypto.js";

/**
 * Dynamic registration by invitation. The tool's provider creates a registration link for a
 * school's LMS (the admin pages; `npm start` makes one locally) and the LMS administrator pastes
 * it into the LMS. Without a link nobody can register an LMS, and with it the tool holds data
 * only for LMSs its provider chose (UK GDPR: the provider processes a school's data under an
 * agreement with that school). A link works once, until it expires; only its SHA-256 is stored,
 * so a copy of the table holds no usable link.
 */
export interface RegistrationLink {
  /** SHA-256 (base64url) of the link's secret part. */
  id: string;
  /** Who the link is for, in the provider's words ("St Mary's Moodle"). */
  note: string;
  createdAt: string;
  /** Epoch seconds. */
  expiresAt: number;
  usedAt?: string;
  usedBy?: { issuer: string; clientId: string };
  /** Epoch seconds: a registration holds the link until then (see `claim`). */
  claimedUntil?: number;
  /** The admin form that made it: the same form sent again (a reload) makes no second link. */
  requestId?: string;
}

export interface RegistrationLinkStore {
  save(link: RegistrationLink): Promise<void>;
  /**
   * Saves a link made by the admin page's form once per form (its `requestId`), atomically:
   * false, and nothing saved, when that form made a link already (sent twice: a double click, a
   * reload), so two requests at the same instant cannot both make one.
   */
  saveForRequest(link: RegistrationLink & { requestId: string }): Promise<boolean>;
  get(id: string): Promise<RegistrationLink | undefined>;
  /**
   * Holds the link for one registration until `untilSeconds`, atomically: false when it is used,
   * gone, or held by another registration whose hold has not run out. Two registrations racing on
   * one link cannot both get past this; a registration that died holding it frees it at the end.
   */
  claim(id: string, nowSeconds: number, untilSeconds: number): Promise<boolean>;
  /** Lets go of a hold after a registration failed: the link can be used again. */
  release(id: string): Promise<void>;
  /**
   * Records the link's one use (and ends the hold): false when it was used already. With
   * `keepUntil` (epoch seconds), the link is kept that long (a registration's "Save again" needs
   * it after it would have expired).
   */
  markUsed(
    id: string,
    usedAt: string,
    by: { issuer: string; clientId: string },
    keepUntil?: number,
  ): Promise<boolean>;
  /** Links not yet expired, newest first. */
  list(nowSeconds: number): Promise<RegistrationLink[]>;
  remove(id: string): Promise<void>;
}

export class RegistrationLinkError extends AppError {
  readonly status = 403;
  readonly code: string = "lti.registration_link_invalid";
  readonly title = "The tool could not be registered";
}
/** The registration page opened without a link. */
export class RegistrationLinkRequiredError extends RegistrationLinkError {
  override readonly code = "lti.registration_link_required";
}

export const LINK_DAYS = { default: 14, max: 90 } as const;
/**
 * The shape of a link's secret part (randomToken: 32 bytes) and of its id (SHA-256): both are 32
 * bytes in base64url.
 */
export const LINK_TOKEN_OR_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * A new link as an administrator asks for it (the admin page's form, `npm run links`): days as
 * typed. Built on first use: no launch makes a link.
 */
export const NewLinkSchema = z.lazySchema(() =>
  z.object({
    note: z.string().check(z.trim(), z.minLength(1), z.maxLength(200)),
    /** Made with the form; absent from a form older than this field (or a script): no reload check. */
    request: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{16,64}$/))),
    days: z.optional(
      z
        .pipe(
          z.string().check(z.regex(/^\d{1,3}$/)),
          z.transform((d) => Number(d)),
        )
        .check(z.refine((d) => d >= 1 && d <= LINK_DAYS.max)),
    ),
  }),
);

interface NewLinkOptions {
  note: string;
  validDays?: number;
  now?: Date;
}

function newLink(options: NewLinkOptions): { token: string; link: RegistrationLink } {
  const now = options.now ?? new Date();
  const days = Math.min(Math.max(Math.floor(options.validDays ?? LINK_DAYS.default), 1), LINK_DAYS.max);
  const token = randomToken();
  return {
    token,
    link: {
      id: sha256b64url(token),
      note: options.note,
      createdAt: now.toISOString(),
      expiresAt: Math.floor(now.getTime() / 1000) + days * 86_400,
    },
  };
}

export async function createRegistrationLink(
  store: RegistrationLinkStore,
  options: NewLinkOptions,
): Promise<{ token: string; link: RegistrationLink }> {
  const made = newLink(options);
  await store.save(made.link);
  return made;
}

/**
 * A link made by the admin page's form, once per form (`requestId`, a hidden field): undefined
 * when that form made one already (sent twice), whatever the timing of the two requests.
 */
export async function createRegistrationLinkOnce(
  store: RegistrationLinkStore,
  options: NewLinkOptions & { requestId: string },
): Promise<{ token: string; link: RegistrationLink & { requestId: string } } | undefined> {
  const { token, link } = newLink(options);
  const once = { ...link, requestId: options.requestId };
  return (await store.saveForRequest(once)) ? { token, link: once } : undefined;
}

/** The link behind `token` (the secret part of its URL), used or not; undefined when there is none. */
export async function findRegistrationLink(
  store: RegistrationLinkStore,
  token: string,
): Promise<RegistrationLink | undefined> {
  return LINK_TOKEN_OR_ID.test(token) ? store.get(sha256b64url(token)) : undefined;
}

/** The link behind `token`, if it can still register an LMS; otherwise a plain-words refusal. */
export async function openRegistrationLink(
  store: RegistrationLinkStore,
  token: string,
  now = new Date(),
): Promise<RegistrationLink> {
  const link = await findRegistrationLink(store, token);
  const refused = refusal(link, now);
  if (refused || !link) throw refused;
  return link;
}

/** Why `link` cannot register an LMS now, or undefined when it can. */
function refusal(link: RegistrationLink | undefined, now: Date): RegistrationLinkError | undefined {
  if (!link || link.expiresAt <= Math.floor(now.getTime() / 1000)) {
    return new RegistrationLinkError(
      "This registration link is not valid, or it has expired. Ask the tool's provider for a new one.",
    );
  }
  if (link.usedAt) {
    return new RegistrationLinkError(
      "This registration link has already been used. Each link registers one LMS: ask the tool's provider for a new one.",
      { context: { usedAt: link.usedAt, usedBy: link.usedBy } },
    );
  }
  return undefined;
}

/** How long a registration may hold a link: well past the registration's own 8 s deadline. */
export const LINK_HOLD_SECONDS = 60;

/** Takes the link for this registration, or says plainly why it cannot. */
export async function holdRegistrationLink(
  store: RegistrationLinkStore,
  link: RegistrationLink,
  now = new Date(),
): Promise<void> {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (await store.claim(link.id, nowSeconds, nowSeconds + LINK_HOLD_SECONDS)) return;
  throw (
    refusal(await store.get(link.id), now) ??
    new RegistrationLinkError(
      "Another registration is using this link right now. Wait a minute, then start again from your LMS.",
    )
  );
}

export function registrationLinkRequired(): RegistrationLinkRequiredError {
  return new RegistrationLinkRequiredError(
    "This tool is registered by invitation. Ask the tool's provider for your LMS's registration link, and paste that link into your LMS instead.",
  );
}
