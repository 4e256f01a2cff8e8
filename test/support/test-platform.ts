import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { CLAIM, type LaunchClaims } from "../../lti-tool/claims.js";
import type { ValidatedLaunch } from "../../lti-tool/launch.js";
import { initiateLogin, type LoginResult } from "../../lti-tool/login.js";
import { PlatformJwksCache } from "../../lti-tool/platform-jwks.js";
import type { OpenedLoginState, PlatformRegistration } from "../../lti-tool/ports.js";
import { MemoryLoginStateStore, MemoryRegistrationStore } from "./memory-stores.js";

export const ISSUER = "https://moodle.school.test";
export const CLIENT_ID = "client-abc";
export const DEPLOYMENT_ID = "1";
export const JWKS_URL = `${ISSUER}/mod/lti/certs.php`;
export const REDIRECT_URI = "https://tool.test/lti/launch";
/** The tool's own URLs as dynamic registration sends them (lti-tool/dynamic-registration.ts ToolUrls). */
export const TOOL_URLS = {
  base: "https://tool.test",
  login: "https://tool.test/lti/login",
  launch: REDIRECT_URI,
  jwks: "https://tool.test/.well-known/jwks.json",
  targetLinkUri: "https://tool.test/app",
  deepLinking: "https://tool.test/lti/deep-link",
};

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function newSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" } };
}

/**
 * A platform for unit tests: real RS256 keys, a JWKS served through an injected fetch (which
 * counts requests), and the tool's stores in memory with the platform registered.
 */
let defaultKey: Promise<SigningKey> | undefined;

export async function testPlatform() {
  // RSA key generation is slow; tests share the default platform key and make others as needed.
  defaultKey ??= newSigningKey("platform-key-1");
  let published: SigningKey[] = [await defaultKey];
  let jwksFetches = 0;
  const fetchJwks: typeof fetch = async (input) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (url !== JWKS_URL) return new Response("not found", { status: 404 });
    jwksFetches++;
    return Response.json({ keys: published.map((k) => k.publicJwk) });
  };
  const registrations = new MemoryRegistrationStore();
  const states = new MemoryLoginStateStore();
  await registrations.savePlatform(
    {
      issuer: ISSUER,
      clientId: CLIENT_ID,
      authUrl: `${ISSUER}/mod/lti/auth.php`,
      tokenUrl: `${ISSUER}/mod/lti/token.php`,
      jwksUrl: JWKS_URL,
      createdAt: new Date().toISOString(),
    },
    [DEPLOYMENT_ID],
  );
  const platformKeys = new PlatformJwksCache({ fetch: fetchJwks });

  return {
    registrations,
    states,
    platformKeys,
    get jwksFetches() {
      return jwksFetches;
    },
    get signingKey(): SigningKey {
      const [k] = published;
      if (!k) throw new Error("no key");
      return k;
    },
    /** Replace the published keys (a platform key rotation). */
    publish(keys: SigningKey[]) {
      published = keys;
    },
    /** A login initiation as Moodle sends it; `extra` changes fields, `undefined` leaves one out. */
    async login(extra: Record<string, string | undefined> = {}): Promise<LoginResult> {
      const fields = {
        iss: ISSUER,
        login_hint: "user-1",
        target_link_uri: "https://tool.test/app",
        lti_message_hint: "hint-1",
        client_id: CLIENT_ID,
        lti_deployment_id: DEPLOYMENT_ID,
        ...extra,
      };
      return initiateLogin(
        Object.fromEntries(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined)),
        { registrations, states, redirectUri: REDIRECT_URI },
      );
    },
    deps() {
      return { registrations, states, platformKeys, toolOrigin: new URL(REDIRECT_URI).origin };
    },
    /** The platform's HTTP as the tool sees it in unit tests (JWKS only; services answer 404). */
    fetch: fetchJwks,
  };
}

/** The claims of a valid resource link launch, per LTI Core §5.3–5.4. */
export function validClaims(nonce: string, now = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  return {
    iss: ISSUER,
    aud: CLIENT_ID,
    sub: "user-1",
    exp: now + 60,
    iat: now,
    nonce,
    name: "Alex Candidate",
    email: "alex@school.test",
    locale: "en",
    [CLAIM.messageType]: "LtiResourceLinkRequest",
    [CLAIM.version]: "1.3.0",
    [CLAIM.deploymentId]: DEPLOYMENT_ID,
    [CLAIM.targetLinkUri]: "https://tool.test/app",
    [CLAIM.resourceLink]: { id: "link-1", title: "HLTA preparation" },
    [CLAIM.roles]: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
    [CLAIM.context]: { id: "course-1", label: "HLTA", title: "HLTA Spring cohort" },
  };
}

/** Turns valid launch claims into a tutor's Deep Linking request (Deep Linking §4.4). */
export function deepLinkingClaims(c: Record<string, unknown>): void {
  c[CLAIM.messageType] = "LtiDeepLinkingRequest";
  delete c[CLAIM.resourceLink];
  c[CLAIM.roles] = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"];
  c[CLAIM.deepLinkingSettings] = {
    deep_link_return_url: "https://moodle.school.test/mod/lti/contentitem_return.php?course=2",
    accept_types: ["ltiResourceLink"],
    accept_presentation_document_targets: ["iframe"],
    accept_multiple: true,
    accept_lineitem: true,
    data: "keep-me",
  };
}

/**
 * A candidate's resource link launch as `checkLaunch` returns it, for stores that record
 * launches (they trust the checks for everything in it). `loginState` carries the single use.
 */
export function checkedLaunch(
  loginState: OpenedLoginState,
  user: { sub?: string; name?: string } = {},
): ValidatedLaunch {
  const tenant = { issuer: loginState.issuer, clientId: loginState.clientId, deploymentId: DEPLOYMENT_ID };
  const claims = { ...validClaims(loginState.nonce), iss: loginState.issuer, aud: loginState.clientId };
  return {
    messageType: "LtiResourceLinkRequest",
    claims: claims as unknown as LaunchClaims,
    platform: { issuer: loginState.issuer, clientId: loginState.clientId } as PlatformRegistration,
    tenant,
    course: { ...tenant, contextId: "course-1" },
    user: {
      sub: user.sub ?? "user-1",
      ...(user.name !== undefined ? { name: user.name } : {}),
      ltiRoles: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
      role: "candidate",
    },
    loginState,
  };
}

export async function sign(
  claims: Record<string, unknown>,
  key: SigningKey,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: key.kid, ...header })
    .sign(key.privateKey);
}

/** A JWT with any header and no valid signature (alg none, or a forged HS256). */
export function unsignedJwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  signature = "",
): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${enc(header)}.${enc(claims)}.${signature}`;
}
