import { randomBytes } from "node:crypto";
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  SignJWT,
} from "jose";
import { sha256b64url } from "./crypto.js";
import type { ToolKey, ToolKeyStore } from "./ports.js";

/**
 * The tool's own signing keys (LTI Advantage: deep-linking responses, client-credentials
 * assertions). The signer is the port the rest of the code sees, so that a KMS-backed signer
 * (hardening issue) can replace this stored-key one without touching callers.
 */
export interface ToolSigner {
  /** The public keys to publish: the current one and any superseded one kept during rotation. */
  jwks(): Promise<JSONWebKeySet>;
  /** Sign a JWT with the current key (RS256, header `kid`). */
  sign(payload: JWTPayload, options?: { typ?: string }): Promise<string>;
}

export async function generateToolKey(now = new Date()): Promise<ToolKey> {
  const { publicKey, privateKey } = await generateKeyPair("RS256", {
    modulusLength: 2048,
    extractable: true,
  });
  const publicJwk = await exportJWK(publicKey);
  // kid = RFC 7638 thumbprint: stable for the key, unique across keys.
  const kid = await calculateJwkThumbprint(publicJwk, "sha256");
  return {
    kid,
    alg: "RS256",
    publicJwk: { ...publicJwk, kid, alg: "RS256", use: "sig" },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: "RS256" },
    createdAt: now.toISOString(),
  };
}

/** How long platforms may cache the tool's keyset (the JWKS answer's `Cache-Control: max-age`). */
export const JWKS_MAX_AGE_SECONDS = 300;
/** How long a signer trusts its copy of the key list (a rotation reaches every instance within it). */
export const KEY_LIST_CACHE_MS = 60_000;
/**
 * A rotated-in key is published at once and signs only after this lead: longer than a platform's
 * cached keyset lives, plus an instance's cached key list, plus a minute for clocks. So no
 * platform that honours the keyset's cache header meets a kid it has not seen.
 */
export const ROTATION_LEAD_MS = JWKS_MAX_AGE_SECONDS * 1000 + KEY_LIST_CACHE_MS + 60_000;
/**
 * How far another machine's clock may run behind the one that made a key signing "at once" (a
 * leaked key replaced, the first key): such a key signs from this much before it was made, so an
 * instance whose clock is behind finds it signing too, instead of no key and making one more.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** When a key made at `now` to sign at once signs from (`activeFrom`): CLOCK_SKEW_MS before. */
const signingAtOnce = (now: Date): string => new Date(now.getTime() - CLOCK_SKEW_MS).toISOString();
/** A key that stopped signing stays published this long, for anything it signed just before. */
export const RETIRED_KEY_PUBLISHED_MS = 60 * 60_000;

/** When a key signs from: its `activeFrom`, or (a key made at once) its creation. */
const activeFrom = (k: ToolKey) => k.activeFrom ?? k.createdAt;

/** The key that signs at `now`: of the keys active by then, the one that became active last. */
export function signingKeyAt(keys: readonly ToolKey[], now: Date): ToolKey | undefined {
  const at = now.toISOString();
  return [...keys]
    .filter((k) => activeFrom(k) <= at)
    .sort((a, b) => activeFrom(b).localeCompare(activeFrom(a)) || b.createdAt.localeCompare(a.createdAt))[0];
}

/** When `key` stops (or stopped) signing: when the next key after it becomes active; undefined if none. */
export function stopsSigningAt(keys: readonly ToolKey[], key: ToolKey): string | undefined {
  return keys
    .map(activeFrom)
    .filter((t) => t > activeFrom(key))
    .sort()[0];
}

export class StoredKeySigner implements ToolSigner {
  private cache: { keys: ToolKey[]; at: number } | undefined;
  private privateKeys = new Map<string, CryptoKey | Uint8Array>();

  constructor(
    private readonly store: ToolKeyStore,
    /** How long to trust the cached key list (rotation reaches every Lambda within it). */
    private readonly cacheMs = KEY_LIST_CACHE_MS,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A key that signs now, made if there is none; calls at the same moment share one. */
  ensureKey(): Promise<ToolKey> {
    this.ensuring ??= this.makeSureOfKey().finally(() => {
      this.ensuring = undefined;
    });
    return this.ensuring;
  }

  private ensuring: Promise<ToolKey> | undefined;

  private async makeSureOfKey(): Promise<ToolKey> {
    const keys = await this.keys(true);
    const now = this.now();
    const current = signingKeyAt(keys, now);
    if (current) return current;
    const key = { ...(await generateToolKey(now)), activeFrom: signingAtOnce(now) };
    // The very first key: of instances starting at once on an empty store, one wins, and the
    // others sign with it (so the key set one of them published names the key that signs).
    if (keys.length === 0) {
      const first = await this.store.addFirstKey(key);
      this.cache = undefined;
      if (first) return key;
      const winner = signingKeyAt(await this.keys(true), this.now());
      if (winner) return winner;
      // A first key was made once and since removed by hand: a key like any other, then.
    }
    await this.store.addKey(key);
    this.cache = undefined;
    return key;
  }

  async jwks(): Promise<JSONWebKeySet> {
    let keys = await this.keys();
    if (keys.length === 0) {
      await this.ensureKey();
      keys = await this.keys();
    }
    return { keys: keys.map((k) => publicOnly(k.publicJwk)) };
  }

  async sign(payload: JWTPayload, options: { typ?: string } = {}): Promise<string> {
    const key = signingKeyAt(await this.keys(), this.now()) ?? (await this.ensureKey());
    let privateKey = this.privateKeys.get(key.kid);
    if (!privateKey) {
      privateKey = await importJWK(key.privateJwk, "RS256");
      this.privateKeys.set(key.kid, privateKey);
    }
    return new SignJWT(payload)
      .setProtectedHeader({ alg: "RS256", kid: key.kid, ...(options.typ ? { typ: options.typ } : {}) })
      .sign(privateKey);
  }

  /**
   * Rotation. The new key is published at once and signs from `ROTATION_LEAD_MS` later, when every
   * platform's cached keyset has it; the key signing now goes on until then. A key that stopped
   * signing over `RETIRED_KEY_PUBLISHED_MS` ago is removed; every other stays published (a key
   * another rotation scheduled, the one signing now). `immediately` is for a key that must not
   * be trusted any more (leaked): the new key signs at once and every other key is removed from
   * the keyset; platforms holding the old keyset fetch it again on the new kid.
   */
  async rotate(options: { immediately?: boolean } = {}): Promise<{
    current: ToolKey;
    signsFrom: string;
    published: string[];
    removed: string[];
  }> {
    const now = this.now();
    const keys = await this.keys(true);
    // With no key signing yet, no platform holds a keyset to wait for: the new key signs at once.
    const lead = options.immediately || !signingKeyAt(keys, now) ? 0 : ROTATION_LEAD_MS;
    const signsFrom = lead === 0 ? signingAtOnce(now) : new Date(now.getTime() + lead).toISOString();
    const next: ToolKey = { ...(await generateToolKey(now)), activeFrom: signsFrom };
    await this.store.addKey(next);
    // The key the new one follows: the last to become active (one an earlier rotation scheduled, if any).
    const previous = [...keys].sort((a, b) => activeFrom(b).localeCompare(activeFrom(a)))[0];
    if (previous && !options.immediately) await this.store.markSuperseded(previous.kid, signsFrom);
    const all = [...keys, next];
    const removed: string[] = [];
    for (const k of keys) {
      const stopped = stopsSigningAt(all, k);
      const retired =
        options.immediately ||
        (stopped !== undefined && Date.parse(stopped) + RETIRED_KEY_PUBLISHED_MS <= now.getTime());
      if (retired) {
        await this.store.removeKey(k.kid);
        removed.push(k.kid);
      }
    }
    this.cache = undefined;
    return {
      current: next,
      signsFrom,
      published: all.filter((k) => !removed.includes(k.kid)).map((k) => k.kid),
      removed,
    };
  }

  private async keys(fresh = false): Promise<ToolKey[]> {
    const at = this.now().getTime();
    if (!fresh && this.cache && at - this.cache.at < this.cacheMs) return this.cache.keys;
    const keys = await this.store.listKeys();
    this.cache = { keys, at };
    return keys;
  }
}

/** Strip every private member, whatever the key type. */
function publicOnly(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, k: _k, ...pub } = jwk;
  return pub;
}

export function randomSecret(bytes = 32): Uint8Array {
  return new Uint8Array(randomBytes(bytes));
}

/** The name of the tool administrator's key (`/admin`) among the tool's secrets. */
export const ADMIN_KEY_SECRET = "admin-key";

/** A new tool administrator key: 24 random bytes (32 characters of base64url as typed). */
export const newAdminKey = (): Uint8Array => randomSecret(24);

/**
 * What an admin session remembers of the key it was signed in with: a session whose key has been
 * replaced has ended. 96 bits of the key's SHA-256, which tell nothing of the key.
 */
export function adminKeyFingerprint(key: Uint8Array): string {
  return sha256b64url(Buffer.from(key).toString("base64url")).slice(0, 16);
}

/**
 * Replace the tool administrator key with a new one (`npm run keys -- admin-key --replace`).
 * Every administration session ends with it, on every instance at once: each carries its key's
 * fingerprint, checked at every admin request. No instant is written, so the clock of the
 * machine that runs the command (an administrator's laptop) decides nothing.
 */
export async function replaceAdminKey(store: Pick<ToolKeyStore, "replaceSecret">): Promise<Uint8Array> {
  const key = newAdminKey();
  await store.replaceSecret(ADMIN_KEY_SECRET, key);
  return key;
}
