import { issuesFromZod } from "../domain/errors.js";
import { LoginInitiationSchema } from "./claims.js";
import { randomToken, sha256b64url } from "./crypto.js";
import {
  AmbiguousClientError,
  InvalidLoginRequestError,
  TargetLinkNotToolError,
  UnregisteredDeploymentError,
  UnregisteredPlatformError,
} from "./errors.js";
import type {
  BrowserBinding,
  LoginState,
  LoginStateStore,
  PlatformRegistration,
  RegistrationStore,
} from "./ports.js";

export interface LoginDeps {
  registrations: RegistrationStore;
  states: LoginStateStore;
  /** Our registered redirect URI (the launch endpoint). */
  redirectUri: string;
  now?: () => Date;
  /** Seconds a login may take before its state is refused (the user's trip to the LMS and back). */
  stateTtlSeconds?: number;
}

export interface LoginResult {
  /** Where to send the browser: the platform's OIDC auth endpoint with every parameter. */
  authRedirectUrl: string;
  /** The sealed login state, as sent to the platform. */
  state: string;
  /** The secret the browser keeps (cookie or platform storage); only its hash is in the state. */
  browserSecret: string;
  binding: BrowserBinding;
  /** Platform Storage target frame (`lti_storage_target`) when the platform supports it. */
  storageTarget?: string;
  /** Origin of the platform's auth URL: the postMessage target origin for Platform Storage. */
  platformOrigin: string;
  stateTtlSeconds: number;
  platform: PlatformRegistration;
  /** The login request as received, for a relaunch in a new window. */
  loginParams: Record<string, string>;
}

/**
 * OIDC third-party login initiation (LTI Core §5.1.1, Security Framework §5.1.1). Works the
 * same for GET and POST: the caller passes the query or form fields. Writes nothing: the login
 * state is sealed into the `state` parameter (see SealedLoginStates).
 */
export async function initiateLogin(params: Record<string, string>, deps: LoginDeps): Promise<LoginResult> {
  const parsed = LoginInitiationSchema.safeParse(params);
  if (!parsed.success) {
    throw new InvalidLoginRequestError(
      "Your LMS started the launch without the information the tool needs (issuer, login hint and target link). Ask your LMS administrator to check the tool's configuration.",
      { context: { issues: issuesFromZod(parsed.error) } },
    );
  }
  const login = parsed.data;
  checkTargetLink(login.target_link_uri, new URL(deps.redirectUri).origin, "login");
  const platform = await choosePlatform(login.iss, login.client_id, deps.registrations);
  if (login.lti_deployment_id) {
    const deployment = await deps.registrations.getDeployment(
      platform.issuer,
      platform.clientId,
      login.lti_deployment_id,
    );
    if (!deployment) throw unregisteredDeployment(platform, login.lti_deployment_id);
  }

  const now = deps.now?.() ?? new Date();
  const ttl = deps.stateTtlSeconds ?? 600;
  const issuedAt = Math.floor(now.getTime() / 1000);
  const nonce = randomToken();
  const browserSecret = randomToken();
  const binding: BrowserBinding = login.lti_storage_target ? "platform-storage" : "cookie";
  const loginParams = Object.fromEntries(
    Object.entries(login).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
  const record: LoginState = {
    nonce,
    issuer: platform.issuer,
    clientId: platform.clientId,
    ...(login.lti_deployment_id ? { deploymentId: login.lti_deployment_id } : {}),
    targetLinkUri: login.target_link_uri,
    bindingHash: sha256b64url(browserSecret),
    binding,
    ...(login.lti_storage_target ? { storageTarget: login.lti_storage_target } : {}),
    issuedAt,
    expiresAt: issuedAt + ttl,
  };
  const state = await deps.states.seal(record);
  const auth = authRequestUrl(platform, {
    redirectUri: deps.redirectUri,
    loginHint: login.login_hint,
    ...(login.lti_message_hint !== undefined ? { messageHint: login.lti_message_hint } : {}),
    state,
    nonce,
  });
  return {
    authRedirectUrl: auth.toString(),
    state,
    browserSecret,
    binding,
    ...(login.lti_storage_target ? { storageTarget: login.lti_storage_target } : {}),
    platformOrigin: auth.origin,
    stateTtlSeconds: ttl,
    platform,
    loginParams,
  };
}

/** The OIDC authentication request to the platform (Security Framework §5.1.1.2). */
export function authRequestUrl(
  platform: PlatformRegistration,
  p: { redirectUri: string; loginHint: string; messageHint?: string; state: string; nonce: string },
): URL {
  const auth = new URL(platform.authUrl);
  const query: Record<string, string> = {
    scope: "openid",
    response_type: "id_token",
    response_mode: "form_post",
    prompt: "none",
    client_id: platform.clientId,
    redirect_uri: p.redirectUri,
    login_hint: p.loginHint,
    state: p.state,
    nonce: p.nonce,
    ...(p.messageHint !== undefined ? { lti_message_hint: p.messageHint } : {}),
  };
  for (const [k, v] of Object.entries(query)) auth.searchParams.set(k, v);
  return auth;
}

async function choosePlatform(
  issuer: string,
  clientId: string | undefined,
  registrations: RegistrationStore,
): Promise<PlatformRegistration> {
  if (clientId) {
    const platform = await registrations.getPlatform(issuer, clientId);
    if (platform) return platform;
    throw new UnregisteredPlatformError(
      `The LMS at ${issuer} launched with client id ${clientId}, which is not registered with this tool. Ask your LMS administrator to register the tool (or check its client id).`,
      { context: { issuer, clientId } },
    );
  }
  const platforms = await registrations.platformsByIssuer(issuer);
  const [only, ...others] = platforms;
  if (!only) {
    throw new UnregisteredPlatformError(
      `The LMS at ${issuer} is not registered with this tool. Ask your LMS administrator to register it.`,
      { context: { issuer } },
    );
  }
  if (others.length > 0) {
    // client_id is optional in the login request; with several registrations we cannot guess.
    throw new AmbiguousClientError(
      `The LMS at ${issuer} has ${platforms.length} registrations with this tool and did not say which one this launch is for. Ask your LMS administrator to send the client id with the login request, or to remove the unused registration.`,
      { context: { issuer, clientIds: platforms.map((p) => p.clientId) } },
    );
  }
  return only;
}

/**
 * The page a login or launch asks the tool to open must be the tool's own (OIDC third-party
 * login: `target_link_uri` is checked so the tool is no one's redirector; a path of another
 * site would also choose an activity by its path). Compared by origin: Canvas sends the tool's
 * configured target at login and the placed link's URL in the launch.
 */
export function checkTargetLink(targetLinkUri: string, toolOrigin: string, at: "login" | "launch"): void {
  let origin: string | undefined;
  try {
    origin = new URL(targetLinkUri).origin;
  } catch {
    origin = undefined;
  }
  if (origin !== toolOrigin) {
    throw new TargetLinkNotToolError(
      `Your LMS asked the tool to open ${cut(targetLinkUri)}, which is not an address of this tool (${toolOrigin}). Your LMS administrator should set the tool's target link URI to ${toolOrigin}/app.`,
      { context: { at, targetLinkUri: cut(targetLinkUri), toolOrigin } },
    );
  }
}

const cut = (text: string) => (text.length > 100 ? `${text.slice(0, 100)}…` : text);

export function unregisteredDeployment(platform: PlatformRegistration, deploymentId: string) {
  return new UnregisteredDeploymentError(
    `This course's LMS sent deployment ${deploymentId}, which is not registered for ${platform.issuer} (client id ${platform.clientId}). Ask your LMS administrator to register it.`,
    { context: { issuer: platform.issuer, clientId: platform.clientId, deploymentId } },
  );
}
