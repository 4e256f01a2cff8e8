import { compactVerify, decodeProtectedHeader, type ProtectedHeaderParameters } from "jose";
import { issuesFromZod } from "../domain/errors.js";
import type { CourseRef, TenantRef } from "../domain/tenancy.js";
import {
  CLAIM,
  CLAIM_SCHEMAS,
  type LaunchClaims,
  LTI_VERSION,
  MESSAGE_TYPES,
  type MessageType,
  type ResourceLinkClaims,
} from "./claims.js";
import {
  AnonymousLaunchError,
  AudienceMismatchError,
  AuthorizedPartyMismatchError,
  DeploymentMismatchError,
  InvalidClaimsError,
  InvalidIssuedAtError,
  InvalidSignatureError,
  IssuerMismatchError,
  MalformedTokenError,
  MissingKidError,
  NonceMismatchError,
  PlatformJwksUnavailableError,
  StateNotBoundError,
  TokenExpiredError,
  TokenNotYetValidError,
  UnknownKidError,
  UnknownMessageTypeError,
  UnregisteredPlatformError,
  UnsupportedAlgorithmError,
  UnsupportedVersionError,
} from "./errors.js";
import { checkTargetLink, unregisteredDeployment } from "./login.js";
import { holdsBrowserSecret, unknownStateError } from "./login-state.js";
import type { PlatformJwksCache } from "./platform-jwks.js";
import type {
  BrowserBinding,
  LoginStateStore,
  OpenedLoginState,
  PlatformRegistration,
  RegistrationStore,
} from "./ports.js";
import { primaryRole, type ToolRole } from "./roles.js";

export interface LaunchDeps {
  registrations: RegistrationStore;
  states: LoginStateStore;
  platformKeys: PlatformJwksCache;
  now?: () => Date;
  /** Clock skew allowed on exp/iat (Moodle's tokens live only 60 s). */
  clockSkewSeconds?: number;
  /** An iat older than this is absurd, whatever exp says. */
  maxTokenAgeSeconds?: number;
  /** The tool's origin: the launch's target link must be on it (and was, at login). */
  toolOrigin: string;
}

export interface LaunchInput {
  idToken: string;
  state: string;
  /** The browser secret from the state cookie or from platform storage; undefined if neither came. */
  browserSecret: string | undefined;
  /**
   * Where that secret came from. A state sealed for the cookie binding accepts only the cookie:
   * a secret in a form field is the Platform Storage path's, and the caller passes it only when
   * the tool's own page posted it (a cross-site form could otherwise carry an attacker's secret
   * and log the victim in to the attacker's launch: login CSRF).
   */
  secretVia: BrowserBinding | undefined;
}

export interface ValidatedLaunch {
  messageType: MessageType;
  claims: LaunchClaims;
  platform: PlatformRegistration;
  tenant: TenantRef;
  course: CourseRef;
  user: {
    sub: string;
    name?: string;
    email?: string;
    locale?: string;
    ltiRoles: string[];
    role: ToolRole | undefined;
  };
  loginState: OpenedLoginState;
}

/**
 * Validate an LTI 1.3 launch (Security Framework §5.1.3; LTI Core §5.1.2) and record the single
 * use of its state and nonce (one conditional write): `checkLaunch`, then `markUsed`. A launch
 * refused by any check spends nothing.
 */
export async function validateLaunch(input: LaunchInput, deps: LaunchDeps): Promise<ValidatedLaunch> {
  const launch = await checkLaunch(input, deps);
  await deps.states.markUsed(launch.loginState);
  return launch;
}

/**
 * Every check of an LTI 1.3 launch, cheapest first: state and browser binding, signature,
 * iss/aud/azp/exp/iat, nonce, the message's claims and the deployment (registered, and the one
 * the login named, if it named one). Writes nothing: the
 * caller must then record the single use of `loginState`, either alone (`markUsed`, as
 * `validateLaunch` does) or atomically with what the launch writes (a `LaunchRecorder`), before
 * it acts on the launch. One transaction for both means a refused replay writes nothing and a
 * failed write spends nothing (the user can post again), in one DynamoDB call instead of two.
 */
export async function checkLaunch(input: LaunchInput, deps: LaunchDeps): Promise<ValidatedLaunch> {
  const now = deps.now?.() ?? new Date();
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const skew = deps.clockSkewSeconds ?? 30;

  // 1. State: issued by us, not expired, bound to this browser.
  const loginState = await deps.states.open(input.state, nowSeconds);
  if (!loginState) throw unknownStateError();
  const rightChannel = input.secretVia === "cookie" || input.secretVia === loginState.binding;
  if (!rightChannel || !holdsBrowserSecret(loginState, input.browserSecret)) {
    throw new StateNotBoundError(
      "The tool could not confirm that this launch came from your browser: the cookie it set when the launch started did not come back. That happens when a launch page is reloaded or sent again, or when a browser blocks cookies inside course pages; if yours does, the tool offers to open in a new window when you open the activity again.",
      {
        context: {
          state: `${loginState.stateId.slice(0, 8)}…`,
          proofGiven: Boolean(input.browserSecret),
          via: input.secretVia ?? "none",
          binding: loginState.binding,
        },
      },
    );
  }

  const platform = await deps.registrations.getPlatform(loginState.issuer, loginState.clientId);
  if (!platform) {
    throw new UnregisteredPlatformError(
      `The LMS at ${loginState.issuer} was unregistered from the tool while you were launching.`,
      { context: { issuer: loginState.issuer, clientId: loginState.clientId } },
    );
  }

  // 2. Signature: RS256 only, key chosen by kid from the platform's JWKS.
  const payload = await verifySignature(input.idToken, platform, deps.platformKeys);

  // 3. Registered claims.
  checkRegisteredClaims(payload, platform, nowSeconds, skew, deps.maxTokenAgeSeconds ?? 600);

  // 4. Nonce: the one sealed in this state (used once: the caller records it, see above).
  if (payload.nonce !== loginState.nonce) {
    throw new NonceMismatchError("The launch did not match the login that started it.", {
      context: { issuer: platform.issuer },
    });
  }

  // 5. LTI claims, per message type; the page to open must be one of the tool's.
  const claims = parseLtiClaims(payload);
  checkTargetLink(claims[CLAIM.targetLinkUri], deps.toolOrigin, "launch");
  const deploymentId = claims[CLAIM.deploymentId];
  const deployment = await deps.registrations.getDeployment(platform.issuer, platform.clientId, deploymentId);
  if (!deployment) throw unregisteredDeployment(platform, deploymentId);
  // LTI Core, login parameter lti_deployment_id: "MUST contain the same deployment id" as the launch.
  if (loginState.deploymentId !== undefined && loginState.deploymentId !== deploymentId) {
    throw new DeploymentMismatchError(
      "The launch named a different placement of the tool in your LMS than the login that started it.",
      { context: { issuer: platform.issuer, login: loginState.deploymentId, launch: deploymentId } },
    );
  }

  const tenant: TenantRef = { issuer: platform.issuer, clientId: platform.clientId, deploymentId };
  const context = claims[CLAIM.context];
  const resourceLink = isResourceLinkLaunch(claims) ? claims[CLAIM.resourceLink].id : undefined;
  const contextId = courseKeyOf(context?.id, resourceLink);
  const locale = claims[CLAIM.launchPresentation]?.locale ?? claims.locale;
  const roles = claims[CLAIM.roles];

  return {
    messageType: claims[CLAIM.messageType],
    claims,
    platform,
    tenant,
    course: { ...tenant, contextId },
    user: {
      sub: claims.sub,
      ...(claims.name !== undefined ? { name: claims.name } : {}),
      ...(claims.email !== undefined ? { email: claims.email } : {}),
      ...(locale !== undefined ? { locale } : {}),
      ltiRoles: roles,
      role: primaryRole(roles),
    },
    loginState,
  };
}

/**
 * The course a launch's records live under. Launches without a course context (rare; some
 * platforms' home pages) are scoped to their resource link, as `link:<id>`; a real context id that
 * could be read as one (or as an escaped one) gets `ctx:` before it, so no course of the LMS can
 * share its records with a context-less link, and no two contexts share theirs.
 */
export function courseKeyOf(contextId: string | undefined, resourceLinkId: string | undefined): string {
  if (contextId === undefined) return `link:${resourceLinkId ?? "none"}`;
  return contextId.startsWith("link:") || contextId.startsWith("ctx:") ? `ctx:${contextId}` : contextId;
}

async function verifySignature(
  idToken: string,
  platform: PlatformRegistration,
  platformKeys: PlatformJwksCache,
): Promise<Record<string, unknown>> {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(idToken);
  } catch (cause) {
    throw new MalformedTokenError(
      "The launch from your LMS could not be read: it is not a signed LTI launch.",
      {
        cause,
      },
    );
  }
  // Security Framework §5.4: RS256. Never `none`, never HS* (a public key used as an HMAC secret).
  if (header.alg !== "RS256") {
    throw new UnsupportedAlgorithmError(
      `Your LMS signed the launch with ${shown(header.alg, "no algorithm")}; this tool accepts RS256 signatures only, as LTI 1.3 requires.`,
      { context: { alg: shown(header.alg, "none"), issuer: platform.issuer } },
    );
  }
  if (!header.kid) {
    throw new MissingKidError(
      "Your LMS signed the launch without saying which of its keys it used, so the tool cannot check it.",
      { context: { issuer: platform.issuer } },
    );
  }
  let key: CryptoKey | Uint8Array | undefined;
  try {
    key = await platformKeys.verificationKey(platform.jwksUrl, header.kid);
  } catch (cause) {
    if (cause instanceof PlatformJwksUnavailableError) throw cause;
    throw new InvalidSignatureError("Your LMS publishes its signing key in a form the tool cannot use.", {
      cause,
      context: { issuer: platform.issuer, kid: header.kid },
    });
  }
  if (!key) {
    throw new UnknownKidError(
      "Your LMS signed the launch with a key it does not publish, so the tool cannot check it. Your LMS administrator should check the public keyset URL the tool is registered with.",
      { context: { issuer: platform.issuer, kid: header.kid, jwksUrl: platform.jwksUrl } },
    );
  }
  let payloadBytes: Uint8Array;
  try {
    ({ payload: payloadBytes } = await compactVerify(idToken, key, { algorithms: ["RS256"] }));
  } catch (cause) {
    throw new InvalidSignatureError(
      "The launch's signature does not match your LMS's published keys, so the tool cannot trust it.",
      {
        cause,
        context: { issuer: platform.issuer, kid: header.kid },
      },
    );
  }
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(payloadBytes));
  } catch (cause) {
    throw new MalformedTokenError(
      "The launch from your LMS could not be read: its contents are not valid JSON.",
      {
        cause,
      },
    );
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    throw new MalformedTokenError(
      "The launch from your LMS could not be read: its contents are not a JSON object.",
    );
  }
  return payload as Record<string, unknown>;
}

function checkRegisteredClaims(
  payload: Record<string, unknown>,
  platform: PlatformRegistration,
  now: number,
  skew: number,
  maxAge: number,
): void {
  if (payload.iss !== platform.issuer) {
    throw new IssuerMismatchError("The launch names a different LMS than the one that started the login.", {
      context: { expected: platform.issuer, got: payload.iss },
    });
  }
  const aud = payload.aud;
  const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(platform.clientId)) {
    throw new AudienceMismatchError(
      "The launch from your LMS was meant for another tool (another client id).",
      {
        context: { clientId: platform.clientId, aud },
      },
    );
  }
  // OIDC Core §3.1.3.7 (6, 7): several audiences require azp; when present it must be us.
  if ((audiences.length > 1 || payload.azp !== undefined) && payload.azp !== platform.clientId) {
    throw new AuthorizedPartyMismatchError(
      "The launch from your LMS was issued to another tool (another client id).",
      {
        context: { clientId: platform.clientId, azp: payload.azp, aud },
      },
    );
  }
  if (typeof payload.exp !== "number" || payload.exp + skew <= now) {
    throw new TokenExpiredError("The launch took too long and expired on its way from your LMS.", {
      context: { exp: payload.exp, now },
    });
  }
  if (payload.nbf !== undefined && (typeof payload.nbf !== "number" || payload.nbf > now + skew)) {
    throw new TokenNotYetValidError(
      "The launch is dated to take effect later than now: your LMS server's clock may be wrong.",
      { context: { nbf: shown(payload.nbf, "none"), now } },
    );
  }
  if (typeof payload.iat !== "number" || payload.iat > now + skew || payload.iat < now - maxAge) {
    throw new InvalidIssuedAtError(
      "The launch's time of issue is not plausible: your LMS server's clock may be wrong.",
      { context: { iat: payload.iat, now } },
    );
  }
}

export function isResourceLinkLaunch(claims: LaunchClaims): claims is ResourceLinkClaims {
  return claims[CLAIM.messageType] === "LtiResourceLinkRequest";
}

/**
 * A value from a token, as an error message may quote it: strings and numbers as they are (cut
 * to 100 characters), anything else by its kind. Never `String(value)`, which an object with a
 * hostile `toString` turns into a throw.
 */
function shown(value: unknown, absent: string): string {
  if (value === undefined || value === null) return absent;
  if (typeof value === "string") return value.length > 100 ? `${value.slice(0, 100)}…` : value;
  if (typeof value === "number" || typeof value === "boolean") return `${value}`;
  return Array.isArray(value) ? "a list" : `a value of type ${typeof value}`;
}

function parseLtiClaims(payload: Record<string, unknown>): LaunchClaims {
  const version = payload[CLAIM.version];
  if (version !== LTI_VERSION) {
    throw new UnsupportedVersionError(
      `Your LMS sent an LTI version the tool does not support (${shown(version, "none")}); it needs LTI ${LTI_VERSION}.`,
      { context: { version: shown(version, "none") } },
    );
  }
  const messageType = payload[CLAIM.messageType];
  if (typeof messageType !== "string" || !(MESSAGE_TYPES as readonly string[]).includes(messageType)) {
    throw new UnknownMessageTypeError(
      `Your LMS sent a kind of launch this tool does not handle (${shown(messageType, "no message type")}).`,
      { context: { messageType: shown(messageType, "none") } },
    );
  }
  if (payload.sub === undefined) {
    throw new AnonymousLaunchError(
      "Your LMS opened the tool without saying who you are (an anonymous launch). HLTA preparation keeps each candidate's own progress, so it needs your LMS to say who is launching it.",
      { context: { messageType } },
    );
  }
  const parsed = CLAIM_SCHEMAS[messageType as MessageType].safeParse(payload);
  if (!parsed.success) {
    const issues = issuesFromZod(parsed.error);
    throw new InvalidClaimsError(
      `Your LMS's launch is missing information the tool needs, or sent it in a form the tool cannot use: ${issues
        .slice(0, 5)
        .map((i) => `${claimLabel(i.path)} (${i.message})`)
        .join("; ")}.`,
      issues,
      { context: { messageType } },
    );
  }
  return parsed.data;
}

/** `https://purl.imsglobal.org/spec/lti/claim/resource_link.id` → `resource_link.id`. */
function claimLabel(path: string): string {
  return path.replace(/^https:\/\/purl\.imsglobal\.org\/spec\/[^/]+\/claim\//, "");
}
