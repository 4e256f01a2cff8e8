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

/** The newest key that has not been superseded signs. */
function currentKey(keys: readonly ToolKey[]): ToolKey | undefined {
  return [...keys].filter((k) => !k.supersededAt).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
}

export class StoredKeySigner implements ToolSigner {
  private cache: { keys: ToolKey[]; at: number } | undefined;
  private privateKeys = new Map<string, CryptoKey | Uint8Array>();

  constructor(
    private readonly store: ToolKeyStore,
    /** How long to trust the cached key list (rotation reaches every Lambda within it). */
    private readonly cacheMs = 60_000,
  ) {}

  /** Make sure a key exists: called once at start, so the first launch never waits for RSA keygen. */
  async ensureKey(): Promise<ToolKey> {
    const keys = await this.keys(true);
    const current = currentKey(keys);
    if (current) return current;
    const key = await generateToolKey();
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
    const key = currentKey(await this.keys()) ?? (await this.ensureKey());
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
   * Rotation: add a new key that signs from now on; the previous key stays published so that
   * platforms holding tokens or a cached JWKS keep verifying; keys older than that are removed.
   */
  async rotate(now = new Date()): Promise<{ current: ToolKey; published: string[]; removed: string[] }> {
    const keys = await this.keys(true);
    const previous = currentKey(keys);
    const next = await generateToolKey(now);
    await this.store.addKey(next);
    if (previous) await this.store.markSuperseded(previous.kid, now.toISOString());
    const removed: string[] = [];
    for (const k of keys) {
      if (k.kid !== previous?.kid) {
        await this.store.removeKey(k.kid);
        removed.push(k.kid);
      }
    }
    this.cache = undefined;
    return { current: next, published: [next.kid, ...(previous ? [previous.kid] : [])], removed };
  }

  private async keys(fresh = false): Promise<ToolKey[]> {
    if (!fresh && this.cache && Date.now() - this.cache.at < this.cacheMs) return this.cache.keys;
    const keys = await this.store.listKeys();
    this.cache = { keys, at: Date.now() };
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
