import { setTimeout as sleep } from "node:timers/promises";
import { untilAborted } from "../../domain/abort.js";
import { isEndpointUrl } from "../../domain/endpoints.js";
import { AppError, UpstreamError } from "../../domain/errors.js";
import { BodyTooLargeError, isRedirect, readCapped } from "../../domain/http-body.js";
import * as z from "../../domain/zod.js";
import { randomToken } from "../crypto.js";
import type { PlatformRegistration } from "../ports.js";
import type { ToolSigner } from "../tool-keys.js";

export const SCOPES = {
  lineItem: "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
  lineItemReadOnly: "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
  score: "https://purl.imsglobal.org/spec/lti-ags/scope/score",
  resultReadOnly: "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
  memberships: "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
} as const;

/** The platform refused or failed a service call; `retryable` tells a queue whether to try again. */
export class PlatformServiceError extends UpstreamError {
  override readonly code: string = "lti.service_failed";
  constructor(
    userMessage: string,
    readonly httpStatus: number | undefined,
    readonly retryable: boolean,
    readonly body: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(userMessage, options);
  }
}

export class AccessTokenError extends PlatformServiceError {
  override readonly code = "lti.access_token_refused";
}

// Built on first use: a launch calls no platform service (a tutor's cohort page may).
const TokenResponseSchema = z.lazySchema(() =>
  z.object({
    access_token: z.string().check(z.minLength(1)),
    token_type: z.string().check(z.refine((t) => t.toLowerCase() === "bearer", "token_type must be Bearer")),
    // Read leniently (some platforms send "3600"); tokenLifetimeMs bounds what it says.
    expires_in: z.optional(z.union([z.number(), z.string()])),
    scope: z.optional(z.string()),
  }),
);

/** A token's lifetime in ms from `expires_in`: 1 h when absent, 0 (use once) when unreadable or ≤ 0, at most a day. */
function tokenLifetimeMs(expiresIn: number | string | undefined): number {
  if (expiresIn === undefined) return 3_600_000;
  const seconds = Number(expiresIn);
  if (!Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.min(seconds, 86_400) * 1000;
}

/** How much of a service's answer the tool reads: a token, a line item, a page of members. */
export const SERVICE_ANSWER_MAX_BYTES = 4 * 1_048_576;

/**
 * A service answer's body, read within SERVICE_ANSWER_MAX_BYTES. A body cut off on the way is a
 * PlatformServiceError the queue retries; one past the cap is refused.
 */
export async function serviceBody(response: Response, what: string): Promise<string> {
  try {
    return await readCapped(response, SERVICE_ANSWER_MAX_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new PlatformServiceError(
        `The LMS's answer to ${what} was larger than the tool reads (${error.maxBytes} bytes).`,
        response.status,
        false,
        "",
      );
    }
    throw new PlatformServiceError(
      `The LMS's answer to ${what} was cut off. The tool will try again later; nothing is lost.`,
      response.status,
      true,
      "",
      { cause: error },
    );
  }
}

/** "HTTP 302, a redirect to …" for messages: the tool follows no redirects from a service. */
export function statusText(response: Response): string {
  if (!isRedirect(response.status)) return `HTTP ${response.status}`;
  const to = response.headers.get("location");
  return `HTTP ${response.status}, a redirect${to ? ` to ${to.slice(0, 200)}` : ""}; the tool follows none, so the LMS's service address must be its final one`;
}

export interface ServiceClientOptions {
  signer: ToolSigner;
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
  /** Attempts per call on 429/5xx/timeouts (the first included). */
  maxAttempts?: number;
  /** Base of the exponential backoff; full jitter. */
  backoffMs?: number;
  /**
   * The longest Retry-After worth waiting for within one call; a longer one ends the call with
   * the platform's answer. Interactive paths (a page a tutor waits for) keep this short.
   */
  maxRetryAfterMs?: number;
  userAgent?: string;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/**
 * Calls to a platform's LTI Advantage services (AGS, NRPS): OAuth 2 client-credentials with a
 * signed JWT assertion (Security Framework §4.1), access tokens cached per platform and scope
 * set until shortly before they expire, retries with backoff on 429/5xx.
 */
export class PlatformServiceClient {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly userAgent: string;

  constructor(private readonly options: ServiceClientOptions) {
    this.fetchImpl = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.backoffMs = options.backoffMs ?? 250;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.userAgent = options.userAgent ?? "HLTA-preparation-LTI-tool/0.1";
  }

  async accessToken(
    platform: PlatformRegistration,
    scopes: readonly string[],
    signal?: AbortSignal,
  ): Promise<string> {
    const { scope, key } = tokenKey(platform, scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > this.now()) return cached.token;
    let pending = this.pending.get(key);
    if (!pending) {
      // Shared by every caller waiting for this token, so bound by no caller's signal (only by
      // the client's own timeouts and attempts); each caller stops waiting at its own.
      pending = this.requestToken(platform, scope).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    const fresh = signal
      ? await untilAborted(pending, signal).catch((error: unknown) => {
          if (!signal.aborted) throw error;
          throw new PlatformServiceError(
            "The LMS did not give the tool access to its services in time. The tool will try again later; nothing is lost.",
            undefined,
            true,
            "",
            { cause: error, context: { issuer: platform.issuer } },
          );
        })
      : await pending;
    this.tokens.set(key, fresh);
    return fresh.token;
  }

  private async requestToken(platform: PlatformRegistration, scope: string): Promise<CachedToken> {
    // Before the assertion is signed: it goes nowhere the tool does not call.
    callable(platform.tokenUrl);
    // A new assertion for each attempt: an LMS may refuse a jti it has seen (RFC 7523 §3), and an
    // attempt that timed out or failed with a 5xx may have reached it.
    const freshBody = async () => {
      const nowSeconds = Math.floor(this.now() / 1000);
      const assertion = await this.options.signer.sign({
        iss: platform.clientId,
        sub: platform.clientId,
        aud: platform.authServer ?? platform.tokenUrl,
        iat: nowSeconds,
        exp: nowSeconds + 300,
        jti: randomToken(16),
      });
      return new URLSearchParams({
        grant_type: "client_credentials",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: assertion,
        scope,
      });
    };
    const response = await this.send(
      platform.tokenUrl,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      },
      { freshBody },
    );
    const text = await serviceBody(response, "the token request");
    if (!response.ok) {
      const busy = response.status >= 500 || response.status === 429;
      throw new AccessTokenError(
        busy
          ? `The LMS could not give the tool access to its services just now (${statusText(response)}). The tool will try again later; nothing is lost.`
          : `The LMS refused the tool access to its services (${statusText(response)}). Check that the tool's services are enabled in the LMS.`,
        response.status,
        busy,
        text.slice(0, 2000),
        { context: { issuer: platform.issuer, scope } },
      );
    }
    const parsed = TokenResponseSchema().safeParse(safeJson(text));
    if (!parsed.success) {
      throw new AccessTokenError(
        "The LMS answered the token request in a form the tool cannot read.",
        response.status,
        false,
        text.slice(0, 2000),
      );
    }
    // Refresh a minute early so a token never expires mid-call.
    const lifetimeMs = tokenLifetimeMs(parsed.data.expires_in);
    return {
      token: parsed.data.access_token,
      expiresAt: this.now() + Math.max(lifetimeMs - 60_000, lifetimeMs / 2),
    };
  }

  /**
   * An authorised service call, retried on 429/5xx/timeouts; returns the final response.
   * `signal` bounds the whole call, retries and pauses included (a background job's budget).
   * `retry: false` for a call that must not be repeated blind (creating something: a repeat
   * whose first answer was lost creates it twice); its caller decides what a failure means.
   */
  async call(
    platform: PlatformRegistration,
    scopes: readonly string[],
    url: string,
    init: {
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      signal?: AbortSignal;
      retry?: boolean;
    } = {},
  ): Promise<Response> {
    // Checked before a token is asked for: an address the tool will not call costs nothing.
    callable(url);
    const { retry, ...request } = init;
    const authorised = async () => {
      const token = await this.accessToken(platform, scopes, request.signal);
      return this.send(
        url,
        { ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } },
        { ...(retry === false ? { attempts: 1 } : {}) },
      );
    };
    const response = await authorised();
    if (response.status !== 401) return response;
    // The LMS no longer takes the cached token (revoked, or its clock runs ahead): one new token.
    await response.body?.cancel().catch(() => undefined);
    this.tokens.delete(tokenKey(platform, scopes).key);
    return authorised();
  }

  private async send(
    url: string,
    init: RequestInit,
    options: { attempts?: number; freshBody?: () => Promise<BodyInit> } = {},
  ): Promise<Response> {
    let lastError: unknown;
    const budget = init.signal ?? undefined;
    const attempts = options.attempts ?? this.maxAttempts;
    // A transient answer kept while waiting to try again: if the budget runs out meanwhile, the
    // LMS's own answer (a 503 with its body) says more than "unreachable".
    let waiting: Response | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (budget?.aborted) {
        if (waiting) return waiting;
        break;
      }
      await waiting?.body?.cancel().catch(() => undefined);
      waiting = undefined;
      let response: Response | undefined;
      // Made outside the try: failing to sign is the tool's own error, not the LMS's absence.
      const body = options.freshBody ? { body: await options.freshBody() } : {};
      const timeout = AbortSignal.timeout(this.timeoutMs);
      try {
        response = await this.fetchImpl(url, {
          ...init,
          ...body,
          headers: { "user-agent": this.userAgent, ...(init.headers as Record<string, string>) },
          signal: budget ? AbortSignal.any([timeout, budget]) : timeout,
          // Never followed: fetch would turn a POST into a GET (a score "posted" nowhere) or
          // carry the token or the signed assertion to another host. The caller sees the 3xx.
          redirect: "manual",
        });
      } catch (error) {
        lastError = error;
      }
      if (response && response.status !== 429 && response.status < 500) return response;
      const wait = this.delay(attempt, response?.headers.get("retry-after"));
      if (attempt === attempts || (response && wait > this.maxRetryAfterMs)) {
        if (response) return response;
        break;
      }
      waiting = response;
      await sleep(wait, undefined, budget ? { signal: budget } : {}).catch(() => undefined);
    }
    throw new PlatformServiceError(
      "The LMS could not be reached. The tool will try again later; nothing is lost.",
      undefined,
      true,
      "",
      { cause: lastError, context: { url } },
    );
  }

  private delay(attempt: number, retryAfter: string | null | undefined): number {
    const seconds = retryAfter ? Number(retryAfter) : Number.NaN;
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    // Retry-After may be an HTTP date (RFC 9110 §10.2.3).
    const at = retryAfter ? Date.parse(retryAfter) : Number.NaN;
    if (Number.isFinite(at)) return Math.max(0, at - this.now());
    return Math.random() * this.backoffMs * 2 ** (attempt - 1);
  }
}

/**
 * Service and token addresses come from launch claims and registrations: https only, plain http
 * to loopback only when the tool runs locally (domain/endpoints.ts). Anything else is refused,
 * as a refusal to keep, not to retry.
 */
function callable(url: string): void {
  if (isEndpointUrl(url)) return;
  throw new PlatformServiceError(
    "Your LMS gave the tool a service address it does not call (it must be an https URL to a public address). Ask your LMS administrator.",
    undefined,
    false,
    "",
    { context: { url: url.slice(0, 200) } },
  );
}

/** The token cache's key: platform, client and the sorted scope set. */
function tokenKey(platform: PlatformRegistration, scopes: readonly string[]) {
  const scope = [...new Set(scopes)].sort().join(" ");
  return { scope, key: `${platform.issuer}\n${platform.clientId}\n${scope}` };
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
