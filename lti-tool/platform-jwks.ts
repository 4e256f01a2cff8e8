import { importJWK, type JSONWebKeySet, type JWK } from "jose";
import { untilAborted } from "../domain/abort.js";
import { getFollowingSafeRedirects } from "../domain/endpoints.js";
import { readCapped } from "../domain/http-body.js";
import * as z from "../domain/zod.js";
import { PlatformJwksUnavailableError } from "./errors.js";
import { CLOCK_SKEW_MS, type FetchedPlatformKeys, type PlatformKeyStore } from "./ports.js";

const JwksSchema = z.object({ keys: z.array(z.unknown()) });
/** A JWKS is a few keys: 1 MB is thousands of them. */
const JWKS_MAX_BYTES = 1_048_576;
/**
 * When a refresh fails, keys fetched within this long still verify launches: an LMS whose key
 * endpoint is down for a while does not stop every launch (a key it rotated out would have been
 * refetched for its unknown kid already).
 */
const STALE_GRACE_MS = 24 * 60 * 60_000;

export interface PlatformJwksOptions {
  fetch?: typeof fetch;
  /** How long a fetched JWKS is trusted before a normal refresh. */
  ttlMs?: number;
  /** After a re-fetch caused by an unknown kid, ignore further unknown kids for this long (DoS guard). */
  unknownKidCooldownMs?: number;
  timeoutMs?: number;
  now?: () => number;
  /**
   * Told each time a refresh fails and keys past their time are served instead (at most once a
   * minute per JWKS URL, see FAILED_REFRESH_PAUSE_MS): for the operator's log, so an LMS whose
   * key endpoint is down is seen before the grace runs out.
   */
  onStaleKeys?: (event: { jwksUrl: string; fetchedAt: number; cause: unknown }) => void;
  /**
   * Keys shared by the tool's instances (the table): an instance without keys for a JWKS URL
   * reads them there before asking the LMS, and every fetch is written back. Optional: without
   * it each instance fetches for itself.
   */
  shared?: PlatformKeyStore;
  /** Told when the shared store fails; the launch goes on with the LMS's own answer. */
  onSharedStoreError?: (event: { jwksUrl: string; operation: "get" | "put"; cause: unknown }) => void;
}

interface CacheEntry {
  jwks: JSONWebKeySet;
  fetchedAt: number;
  refetchedForUnknownKidAt?: number;
  /** When a refresh last failed while these keys were served stale. */
  refreshFailedAt?: number;
}

/** After a failed refresh, stale keys are served this long before the endpoint is asked again. */
const FAILED_REFRESH_PAUSE_MS = 60_000;

/**
 * Platform public keys, cached per JWKS URL. A kid we do not know causes exactly one
 * re-fetch (the platform rotated its key, lti.md), never one per launch.
 */
export class PlatformJwksCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<CacheEntry>>();
  private readonly sharedReads = new Map<string, Promise<CacheEntry | undefined>>();
  /** Imported keys by the JWK itself: a platform's key is parsed once, not on every launch. */
  private readonly imported = new WeakMap<JWK, CryptoKey | Uint8Array>();
  private readonly fetchImpl: typeof fetch;
  private readonly ttlMs: number;
  private readonly cooldownMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly onStaleKeys: NonNullable<PlatformJwksOptions["onStaleKeys"]>;
  private readonly shared: PlatformKeyStore | undefined;
  private readonly onSharedStoreError: NonNullable<PlatformJwksOptions["onSharedStoreError"]>;

  constructor(options: PlatformJwksOptions = {}) {
    this.fetchImpl = options.fetch ?? fetch;
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.cooldownMs = options.unknownKidCooldownMs ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.now = options.now ?? Date.now;
    this.onStaleKeys = options.onStaleKeys ?? (() => {});
    this.shared = options.shared;
    this.onSharedStoreError = options.onSharedStoreError ?? (() => {});
  }

  /** The key with this kid, or undefined when the platform does not publish it even after a re-fetch. */
  async keyFor(jwksUrl: string, kid: string): Promise<JWK | undefined> {
    let entry = this.entries.get(jwksUrl) ?? (await this.fromShared(jwksUrl));
    // The pause after a failed refresh never stretches the day's grace.
    const pausing =
      entry?.refreshFailedAt !== undefined &&
      this.now() - entry.refreshFailedAt < FAILED_REFRESH_PAUSE_MS &&
      this.now() - entry.fetchedAt < STALE_GRACE_MS;
    if (!entry || (this.now() - entry.fetchedAt > this.ttlMs && !pausing)) {
      const stale = entry;
      entry = await this.load(jwksUrl).catch((error: unknown) => {
        if (!stale || this.now() - stale.fetchedAt >= STALE_GRACE_MS) throw error;
        // A down or hanging endpoint is not asked again by every launch meanwhile.
        stale.refreshFailedAt = this.now();
        this.onStaleKeys({ jwksUrl, fetchedAt: stale.fetchedAt, cause: error });
        return stale;
      });
    }
    const found = findKey(entry.jwks, kid);
    if (found) return found;
    const last = entry.refetchedForUnknownKidAt;
    if (last !== undefined && this.now() - last < this.cooldownMs) {
      // No re-fetch of its own, but the one another launch started may be on its way (a class
      // launching together just after the LMS rotated its key): its keys are awaited and looked
      // in, as are any fetched since this entry was read.
      const pending = this.inflight.get(jwksUrl);
      const latest = pending ? await pending.catch(() => undefined) : this.entries.get(jwksUrl);
      return latest ? findKey(latest.jwks, kid) : undefined;
    }
    // The cooldown starts before the fetch: a failing or hanging JWKS endpoint is not asked again
    // by every launch that names an unknown kid.
    entry.refetchedForUnknownKidAt = this.now();
    entry = await this.load(jwksUrl);
    entry.refetchedForUnknownKidAt = this.now();
    return findKey(entry.jwks, kid);
  }

  /** The verification key for a kid, imported for RS256 (cached while the JWKS entry lives). */
  async verificationKey(jwksUrl: string, kid: string): Promise<CryptoKey | Uint8Array | undefined> {
    const jwk = await this.keyFor(jwksUrl, kid);
    if (!jwk) return undefined;
    return this.imported.get(jwk) ?? (await this.importKey(jwk));
  }

  private async importKey(jwk: JWK): Promise<CryptoKey | Uint8Array> {
    const key = await importJWK({ ...jwk, alg: "RS256" }, "RS256");
    this.imported.set(jwk, key);
    return key;
  }

  /**
   * Fetch the keys now, whatever is cached (for a registration: the administrator learns at once
   * whether the tool can reach them), keep and share them. The number of keys a launch can be
   * checked with (RSA signing keys with a kid, that import); PlatformJwksUnavailableError when
   * they cannot be had.
   */
  async refresh(jwksUrl: string): Promise<number> {
    const entry = await this.load(jwksUrl);
    const usable = await Promise.all(
      entry.jwks.keys
        .filter((k) => typeof k.kid === "string" && k.kid !== "" && isRsaSigningKey(k))
        .map((k) =>
          this.importKey(k).then(
            () => true,
            () => false,
          ),
        ),
    );
    return usable.filter(Boolean).length;
  }

  /** What another instance fetched, when this one has nothing for the URL (read once at a time). */
  private fromShared(jwksUrl: string): Promise<CacheEntry | undefined> {
    const shared = this.shared;
    if (!shared) return Promise.resolve(undefined);
    const pending = this.sharedReads.get(jwksUrl);
    if (pending) return pending;
    const promise = shared
      .get(jwksUrl)
      .then((found): CacheEntry | undefined => {
        // An entry this instance made meanwhile (a concurrent fetch) is as new or newer.
        const current = this.entries.get(jwksUrl);
        if (current || !found) return current;
        // Another instance's clock may run a little ahead: keys are never younger than now. Far
        // ahead, their age is unknown: they are not used, and the fetch that follows replaces them.
        if (found.fetchedAt > this.now() + CLOCK_SKEW_MS) return undefined;
        const entry: CacheEntry = { jwks: found.jwks, fetchedAt: Math.min(found.fetchedAt, this.now()) };
        if (this.now() - entry.fetchedAt >= STALE_GRACE_MS) return undefined;
        this.entries.set(jwksUrl, entry);
        return entry;
      })
      .catch((cause: unknown) => {
        this.onSharedStoreError({ jwksUrl, operation: "get", cause });
        return this.entries.get(jwksUrl);
      })
      .finally(() => this.sharedReads.delete(jwksUrl));
    this.sharedReads.set(jwksUrl, promise);
    return promise;
  }

  /** Write fetched keys for the other instances; a failure is told, never the launch's. */
  private async share(jwksUrl: string, keys: FetchedPlatformKeys): Promise<void> {
    if (!this.shared) return;
    try {
      await this.shared.put(jwksUrl, keys);
    } catch (cause) {
      this.onSharedStoreError({ jwksUrl, operation: "put", cause });
    }
  }

  private load(jwksUrl: string): Promise<CacheEntry> {
    const pending = this.inflight.get(jwksUrl);
    if (pending) return pending;
    const promise = this.fetchJwks(jwksUrl).finally(() => this.inflight.delete(jwksUrl));
    this.inflight.set(jwksUrl, promise);
    return promise;
  }

  private async fetchJwks(jwksUrl: string): Promise<CacheEntry> {
    let body: unknown;
    try {
      // Redirects followed only to https addresses (loopback over http only locally).
      const response = await getFollowingSafeRedirects(
        jwksUrl,
        { headers: { accept: "application/json" }, signal: AbortSignal.timeout(this.timeoutMs) },
        this.fetchImpl,
      );
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      body = JSON.parse(await readCapped(response, JWKS_MAX_BYTES));
    } catch (cause) {
      throw new PlatformJwksUnavailableError(
        "The tool could not fetch your LMS's public keys to check the launch.",
        { cause, context: { jwksUrl } },
      );
    }
    const parsed = JwksSchema.safeParse(body);
    if (!parsed.success) {
      throw new PlatformJwksUnavailableError(
        "Your LMS published its public keys in a form the tool cannot read.",
        {
          context: { jwksUrl },
        },
      );
    }
    // A junk entry among the keys is passed over, not a reason to refuse every key.
    const keys = parsed.data.keys.filter(
      (k): k is Record<string, unknown> => typeof k === "object" && k !== null && !Array.isArray(k),
    );
    const entry: CacheEntry = { jwks: { keys: keys as JWK[] }, fetchedAt: this.now() };
    const previous = this.entries.get(jwksUrl);
    if (previous?.refetchedForUnknownKidAt !== undefined) {
      entry.refetchedForUnknownKidAt = previous.refetchedForUnknownKidAt;
    }
    this.entries.set(jwksUrl, entry);
    await this.share(jwksUrl, { jwks: entry.jwks, fetchedAt: entry.fetchedAt });
    return entry;
  }
}

/** The RSA signing key with this kid (another kind of key under the same kid is passed over). */
function findKey(jwks: JSONWebKeySet, kid: string): JWK | undefined {
  return jwks.keys.find((k) => k.kid === kid && isRsaSigningKey(k));
}

function isRsaSigningKey(k: JWK): boolean {
  // A key published for another algorithm (alg: RS512, PS256…) is not used for RS256 (RFC 7517 §4.4).
  return (
    k.kty === "RSA" && (k.use === undefined || k.use === "sig") && (k.alg === undefined || k.alg === "RS256")
  );
}

/**
 * At registration, the LMS's keys are fetched once (by the tool itself: shared with its other
 * instances): an administrator who gave a wrong JWKS URL hears it now, not from the first
 * candidate whose launch fails. The registration stands either way; the answer says what
 * launches will meet. `fetchedBy` names who fetched, for the wording ("The tool", or the
 * administrator's machine for the CLI).
 */
export async function checkPlatformKeys(
  cache: PlatformJwksCache,
  jwksUrl: string,
  options: {
    /**
     * How long to wait for the keys (the fetch's own limit is 5 s): a registration inside the
     * web function has the rest of its time limit. Past it the keys are not reported on (the
     * fetch goes on, and a launch fetches them if it did not land).
     */
    waitMs?: number;
    fetchedBy?: string;
  } = {},
): Promise<{ signingKeys: number; problem?: undefined } | { problem: string; cause?: unknown }> {
  const who = options.fetchedBy ?? "The tool";
  const waited = options.waitMs === undefined ? undefined : AbortSignal.timeout(options.waitMs);
  try {
    const refreshed = cache.refresh(jwksUrl);
    const signingKeys = waited ? await untilAborted(refreshed, waited) : await refreshed;
    if (signingKeys > 0) return { signingKeys };
    return {
      problem: `The LMS publishes no RSA signing key with a key id (kid) at ${jwksUrl}, so the tool cannot check its launches yet.`,
    };
  } catch (cause) {
    // Whatever went wrong, the registration is saved: it is said, never thrown.
    if (waited?.aborted) {
      return {
        problem: `The LMS's public keys at ${jwksUrl} did not arrive in time to be checked here. If they keep that slow, launches may fail: check that this address is the LMS's key set (JWKS) and answers quickly.`,
        cause,
      };
    }
    return {
      problem: `${who} could not fetch the LMS's public keys from ${jwksUrl} just now, so launches will fail until it can. Check that this address is the LMS's key set (JWKS) and that the tool can reach it.`,
      cause,
    };
  }
}
