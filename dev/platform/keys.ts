/**
 * The platform's signing keys. Like Moodle, one RS256 key signs every id_token and is
 * published at `/mod/lti/certs.php`. `rotate()` swaps in a new key with a new `kid` and drops
 * the old one from the JWKS, as a finished rotation does: a tool that cached the old JWKS
 * sees an unknown `kid` and must re-fetch (LTI Security Framework §6.3).
 */
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  SignJWT,
} from "jose";

export interface PlatformKeyPair {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** Key id; defaults to the RFC 7638 thumbprint, so a given key always has the same `kid`. */
  readonly kid?: string;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export class KeyPairNotRsaError extends Error {
  constructor() {
    super("The development platform signs with RS256 and needs an RSA key pair.");
    this.name = "KeyPairNotRsaError";
  }
}

/** A fresh RS256 2048-bit key pair (extractable, so its public half can be published). */
export async function generatePlatformKeyPair(): Promise<PlatformKeyPair> {
  return generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
}

async function toSigningKey(pair: PlatformKeyPair): Promise<SigningKey> {
  const { kty, n, e } = await exportJWK(pair.publicKey);
  if (kty !== "RSA" || !n || !e) throw new KeyPairNotRsaError();
  const kid = pair.kid ?? (await calculateJwkThumbprint({ kty, n, e }, "sha256"));
  return { kid, privateKey: pair.privateKey, publicJwk: { kty, n, e, kid, alg: "RS256", use: "sig" } };
}

export class PlatformKeyring {
  private constructor(private key: SigningKey) {}

  static async create(pair?: PlatformKeyPair): Promise<PlatformKeyring> {
    return new PlatformKeyring(await toSigningKey(pair ?? (await generatePlatformKeyPair())));
  }

  get kid(): string {
    return this.key.kid;
  }

  /** The published key set: only the current key. */
  jwks(): JSONWebKeySet {
    return { keys: [{ ...this.key.publicJwk }] };
  }

  /** Replaces the signing key; the old key leaves the JWKS at once. Returns the new `kid`. */
  async rotate(pair?: PlatformKeyPair): Promise<string> {
    const next = await toSigningKey(pair ?? (await generatePlatformKeyPair()));
    if (next.kid === this.key.kid) throw new Error("Key rotation needs a different key (same kid).");
    this.key = next;
    return next.kid;
  }

  /** Signs as Moodle does (firebase/php-jwt): header `{ typ: "JWT", alg: "RS256", kid }`. */
  async sign(payload: JWTPayload): Promise<string> {
    return new SignJWT(payload)
      .setProtectedHeader({ typ: "JWT", alg: "RS256", kid: this.key.kid })
      .sign(this.key.privateKey);
  }
}
