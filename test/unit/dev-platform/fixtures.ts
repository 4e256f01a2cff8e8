/**
 * Shared set-up for the development platform's unit tests: a platform on `app.request()`
 * (no sockets), the form a page auto-submits, and a stand-in tool that does the tool's half
 * of the launch with real crypto, for driving the launch driver without a network.
 */
import { Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { createLocalJWKSet, jwtVerify } from "jose";
import { type ParsedForm, parseForms } from "../../../dev/platform/html-form.js";
import {
  createDevPlatform,
  type DevPlatform,
  type DevPlatformOptions,
  generatePlatformKeyPair,
  type PlatformKeyPair,
} from "../../../dev/platform/index.js";

export const PLATFORM_URL = "http://localhost:8790";
/** A different site from the platform: the tool is a third party in the LMS iframe. */
export const TOOL_URL = "http://127.0.0.1:8787";
export const TOOL = {
  loginInitiationUrl: `${TOOL_URL}/lti/login`,
  targetLinkUri: `${TOOL_URL}/lti/launch`,
  redirectUris: [`${TOOL_URL}/lti/launch`],
  jwksUrl: `${TOOL_URL}/.well-known/jwks.json`,
};
export const CLIENT_ID = "dev-client-0001";

let sharedKeyPair: Promise<PlatformKeyPair> | undefined;
/** One RSA key pair per test file: generating 2048-bit keys is the slow part. */
export function keyPair(): Promise<PlatformKeyPair> {
  sharedKeyPair ??= generatePlatformKeyPair();
  return sharedKeyPair;
}

export async function newPlatform(options: Partial<DevPlatformOptions> = {}): Promise<DevPlatform> {
  return createDevPlatform({
    baseUrl: PLATFORM_URL,
    tool: TOOL,
    clientId: CLIENT_ID,
    keyPair: await keyPair(),
    ...options,
  });
}

export function onlyForm(html: string, pageUrl: string): ParsedForm {
  const forms = parseForms(html, pageUrl);
  if (forms.length !== 1 || !forms[0]) throw new Error(`expected one form, found ${forms.length}`);
  return forms[0];
}

export function field(form: ParsedForm, name: string): string | undefined {
  return form.fields.find(([n]) => n === name)?.[1];
}

/** A valid OIDC auth request for a fresh launch, as a tool would build it (LTI Security Framework §5.1.1.1). */
export function authParams(platform: DevPlatform, user = "candidate", course = "2"): Record<string, string> {
  const login = platform.loginInitiation({ course, user });
  const get = (name: string) => login.fields.find((f) => f.name === name)?.value ?? "";
  return {
    scope: "openid",
    response_type: "id_token",
    response_mode: "form_post",
    prompt: "none",
    client_id: get("client_id"),
    redirect_uri: TOOL.redirectUris[0] ?? "",
    login_hint: get("login_hint"),
    lti_message_hint: get("lti_message_hint"),
    state: "state-123",
    nonce: "nonce-456",
  };
}

export async function requestAuth(
  platform: DevPlatform,
  params: Record<string, string>,
  method: "GET" | "POST" = "GET",
): Promise<Response> {
  const query = new URLSearchParams(params).toString();
  if (method === "GET") return platform.app.request(`${PLATFORM_URL}/mod/lti/auth.php?${query}`);
  return platform.app.request(`${PLATFORM_URL}/mod/lti/auth.php`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: query,
  });
}

export interface FakeToolOptions {
  /** Attributes of the state cookie the tool sets at login. */
  readonly cookieAttributes?: { sameSite: "None" | "Lax"; secure: boolean; partitioned: boolean };
}

/**
 * The tool's half of a launch, just enough to exercise the platform and the driver: login
 * stores state and nonce in a cookie and redirects to the platform's auth endpoint; launch
 * checks the cookie, the signature against the platform's JWKS and the nonce.
 */
export function fakeTool(platform: DevPlatform, options: FakeToolOptions = {}): Hono {
  const cookie = options.cookieAttributes ?? { sameSite: "None", secure: true, partitioned: true };
  const app = new Hono();
  const registration = platform.registration();
  app.post("/lti/login", async (c) => {
    const form = await c.req.parseBody();
    if (form.iss !== registration.issuer || form.client_id !== registration.clientId) {
      return c.text("unknown platform", 400);
    }
    const state = crypto.randomUUID();
    const nonce = crypto.randomUUID();
    setCookie(c, "lti_state", `${state}.${nonce}`, {
      path: "/",
      httpOnly: true,
      sameSite: cookie.sameSite,
      secure: cookie.secure,
      partitioned: cookie.partitioned,
      maxAge: 600,
    });
    const auth = new URL(registration.authUrl);
    auth.search = new URLSearchParams({
      scope: "openid",
      response_type: "id_token",
      response_mode: "form_post",
      prompt: "none",
      client_id: registration.clientId,
      redirect_uri: platform.tool.redirectUris[0] ?? "",
      login_hint: String(form.login_hint),
      lti_message_hint: String(form.lti_message_hint),
      state,
      nonce,
    }).toString();
    return c.redirect(auth.toString(), 302);
  });
  app.post("/lti/launch", async (c) => {
    const form = await c.req.parseBody();
    const [state, nonce] = (getCookie(c, "lti_state") ?? "").split(".");
    if (!state || state !== form.state) return c.text("state cookie missing or different", 401);
    if (typeof form.error === "string") return c.text(`platform error: ${form.error}`, 400);
    const { payload } = await jwtVerify(String(form.id_token), createLocalJWKSet(platform.jwks()), {
      issuer: registration.issuer,
      audience: registration.clientId,
    });
    if (payload.nonce !== nonce) return c.text("nonce mismatch", 401);
    return c.html(`<h1>Welcome ${String(payload.name)}</h1>`);
  });
  return app;
}

/** A fetch that routes to the platform and the tool apps by origin: the driver's HTTP, without sockets. */
export function routedFetch(platform: DevPlatform, tool: Hono): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const request = new Request(url, init);
    if (url.origin === new URL(PLATFORM_URL).origin) return platform.app.fetch(request);
    if (url.origin === new URL(TOOL_URL).origin) return tool.fetch(request);
    throw new Error(`no route to ${url.origin}`);
  };
}
