import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The tool's own short-lived tokens (sessions, sealed states, sealed form values): compact JWS
 * (RFC 7515) with HS256, checked as RFC 7519 §7.2 says, on node:crypto's synchronous HMAC.
 * Only this tool issues and reads them. Platform tokens (RS256, keys from a JWKS) go through
 * jose in launch.ts. Measured: jose's HS256 goes through WebCrypto (a key import and a thread
 * pool job per token), ≈ 75–150 µs a token against ≈ 7 µs here, and a launch handles five or six.
 * The output is byte-identical to jose's `SignJWT(…).setProtectedHeader({ alg: "HS256" })`,
 * and the tests check both directions against jose.
 */

export type Hs256Failure = "malformed" | "signature" | "expired" | "claims";

export class Hs256Error extends Error {
  constructor(
    readonly reason: Hs256Failure,
    message: string,
  ) {
    super(message);
    this.name = "Hs256Error";
  }
}

const HEADER = Buffer.from(JSON.stringify({ alg: "HS256" })).toString("base64url");
const SEGMENT = /^[A-Za-z0-9_-]+$/;
/** Tokens go through URLs and form fields; anything longer is not ours. */
export const MAX_TOKEN_LENGTH = 16_384;

function mac(secret: Uint8Array, signingInput: string): Buffer {
  return createHmac("sha256", secret).update(signingInput, "ascii").digest();
}

/** Signs `claims` (a JSON object) as a compact JWS with the header {"alg":"HS256"}. */
export function signHs256(claims: Record<string, unknown>, secret: Uint8Array): string {
  const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(claims), "utf8").toString("base64url")}`;
  return `${signingInput}.${mac(secret, signingInput).toString("base64url")}`;
}

export interface Hs256Expectations {
  issuer: string;
  audience: string;
  nowSeconds: number;
}

function decodeJsonObject(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    throw new Hs256Error("malformed", `The token's ${what} is not JSON.`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Hs256Error("malformed", `The token's ${what} is not a JSON object.`);
  }
  return value as Record<string, unknown>;
}

/**
 * Verifies signature, header and the registered claims this tool sets: `exp` (required),
 * `nbf` and `iat` when present, `iss` and `aud` (exact). Returns the claims.
 */
export function verifyHs256(
  token: string,
  secret: Uint8Array,
  expect: Hs256Expectations,
): Record<string, unknown> {
  if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) {
    throw new Hs256Error("malformed", "The token is missing or too long.");
  }
  const parts = token.split(".");
  const [header, payload, signature] = parts;
  if (parts.length !== 3 || !header || !payload || !signature || !parts.every((p) => SEGMENT.test(p))) {
    throw new Hs256Error("malformed", "The token is not a compact JWS.");
  }
  const given = Buffer.from(signature, "base64url");
  const expected = mac(secret, `${header}.${payload}`);
  // The signature must be the canonical encoding of the 32-byte MAC, compared in constant time.
  if (
    given.length !== expected.length ||
    given.toString("base64url") !== signature ||
    !timingSafeEqual(given, expected)
  ) {
    throw new Hs256Error("signature", "The token's signature does not verify.");
  }
  const h = decodeJsonObject(header, "header");
  // RFC 7515 §4.1.11: a critical extension we do not know makes the token invalid.
  if (h.alg !== "HS256" || h.crit !== undefined || h.b64 !== undefined) {
    throw new Hs256Error("malformed", "The token's header is not the one this tool issues.");
  }
  const claims = decodeJsonObject(payload, "payload");
  const { exp, nbf, iat, iss, aud } = claims;
  if (typeof exp !== "number" || !Number.isFinite(exp)) {
    throw new Hs256Error("claims", "The token has no expiry.");
  }
  if (expect.nowSeconds >= exp) throw new Hs256Error("expired", "The token has expired.");
  if (nbf !== undefined && (typeof nbf !== "number" || expect.nowSeconds < nbf)) {
    throw new Hs256Error("claims", "The token is not valid yet.");
  }
  if (iat !== undefined && typeof iat !== "number") {
    throw new Hs256Error("claims", "The token's issue time is not a number.");
  }
  if (iss !== expect.issuer) throw new Hs256Error("claims", "The token is from another issuer.");
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(expect.audience)) {
    throw new Hs256Error("claims", "The token is for another audience.");
  }
  return claims;
}
