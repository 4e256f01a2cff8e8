/**
 * Verifies JWTs the tool signs (token endpoint client assertions, deep-linking responses)
 * against the tool's JWKS, fetched over HTTP from its registered `jwks_uri` as Moodle does.
 * RS256 only, and the header must name the key (`kid`). An unknown `kid` re-fetches the key
 * set at once (no cool-down), so a tool that rotates its key is picked up immediately.
 */
import {
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  type ProtectedHeaderParameters,
} from "jose";

export type ToolJwtResult =
  | { readonly ok: true; readonly header: ProtectedHeaderParameters; readonly payload: JWTPayload }
  | {
      readonly ok: false;
      readonly reason: string;
      /** What could be read without trusting it (for the records). */
      readonly header: ProtectedHeaderParameters | undefined;
      readonly payload: JWTPayload | undefined;
    };

export interface ToolJwtExpectations {
  readonly jwksUrl: string | undefined;
  readonly issuer: string;
  /** Any of these in `aud` passes. */
  readonly audience: string | readonly string[];
  readonly subject?: string;
  readonly requiredClaims: readonly string[];
  /** Epoch ms. */
  readonly now: number;
  /** Seconds of clock skew allowed on exp/iat/nbf. */
  readonly clockTolerance?: number;
}

/** A JWT's header and claims, read without checking anything (for records and routing). */
export function decodeUnverified(token: string): {
  header: ProtectedHeaderParameters | undefined;
  payload: JWTPayload | undefined;
} {
  let header: ProtectedHeaderParameters | undefined;
  let payload: JWTPayload | undefined;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    header = undefined;
  }
  try {
    payload = decodeJwt(token);
  } catch {
    payload = undefined;
  }
  return { header, payload };
}

export class ToolKeySets {
  private readonly sets = new Map<string, JWTVerifyGetKey>();

  constructor(private readonly fetchImpl: typeof fetch = fetch) {}

  keySet(jwksUrl: string): JWTVerifyGetKey {
    let set = this.sets.get(jwksUrl);
    if (!set) {
      const fetchImpl = this.fetchImpl;
      set = createRemoteJWKSet(new URL(jwksUrl), {
        cooldownDuration: 0,
        cacheMaxAge: 60_000,
        timeoutDuration: 5_000,
        [customFetch]: (url, init) => fetchImpl(url, init),
      });
      this.sets.set(jwksUrl, set);
    }
    return set;
  }

  async verify(token: string, expect: ToolJwtExpectations): Promise<ToolJwtResult> {
    const { header, payload } = decodeUnverified(token);
    if (!header || !payload) {
      return {
        ok: false,
        reason: "not a JWT (three base64url parts: JSON header, JSON claims, signature)",
        header,
        payload,
      };
    }
    const fail = (reason: string): ToolJwtResult => ({ ok: false, reason, header, payload });
    if (header.alg !== "RS256") return fail(`alg must be RS256, not ${String(header.alg)}`);
    if (typeof header.kid !== "string" || !header.kid) return fail("the JWT header has no kid");
    if (!expect.jwksUrl) return fail("the tool has no JWKS URL registered on this platform");
    try {
      const verified = await jwtVerify(token, this.keySet(expect.jwksUrl), {
        algorithms: ["RS256"],
        issuer: expect.issuer,
        audience: [...(typeof expect.audience === "string" ? [expect.audience] : expect.audience)],
        ...(expect.subject !== undefined ? { subject: expect.subject } : {}),
        requiredClaims: [...expect.requiredClaims],
        currentDate: new Date(expect.now),
        clockTolerance: expect.clockTolerance ?? 5,
      });
      return { ok: true, header: verified.protectedHeader, payload: verified.payload };
    } catch (error) {
      return fail(explain(error, header.kid, expect.jwksUrl));
    }
  }
}

function explain(error: unknown, kid: string, jwksUrl: string): string {
  if (error instanceof errors.JWKSNoMatchingKey)
    return `no key with kid "${kid}" in the tool's JWKS (${jwksUrl})`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the signature does not verify";
  if (error instanceof errors.JWTExpired) return `the JWT has expired ("${error.claim}" check failed)`;
  if (error instanceof errors.JWTClaimValidationFailed) return `claim "${error.claim}": ${error.message}`;
  if (error instanceof errors.JWKSTimeout) return `the tool's JWKS (${jwksUrl}) did not answer in time`;
  if (error instanceof errors.JOSEError) return `${error.code}: ${error.message}`;
  return `could not fetch or read the tool's JWKS (${jwksUrl}): ${String(error)}`;
}
