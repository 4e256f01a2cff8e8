/**
 * Shared set-up for the development platform's unit tests: a platform on `app.request()`
 * (no sockets), the form a page auto-submits, and a stand-in tool that does the tool's half
 * of the launch with real crypto, for driving the launch driver without a network.
 */
import { Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import {
  type CryptoKey,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from "jose";
import { type ParsedForm, parseForms } from "../../../dev/platform/html-form.js";
import {
  CLAIM,
  createDevPlatform,
  type DevPlatform,
  type DevPlatformOptions,
  generatePlatformKeyPair,
  LTI_VERSION,
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

/**
 * The stand-in tool's signing key: what the tool signs client assertions and deep-linking
 * responses with. Its public half is served at `TOOL.jwksUrl` by `toolJwksFetch`.
 */
export interface ToolKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly jwks: JSONWebKeySet;
}

let sharedToolKey: Promise<ToolKey> | undefined;
export function toolKey(kid = "tool-key-1"): Promise<ToolKey> {
  const make = async (): Promise<ToolKey> => {
    const pair = await generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
    const jwk = await exportJWK(pair.publicKey);
    return { kid, privateKey: pair.privateKey, jwks: { keys: [{ ...jwk, kid, alg: "RS256", use: "sig" }] } };
  };
  if (kid !== "tool-key-1") return make();
  sharedToolKey ??= make();
  return sharedToolKey;
}

/** What the platform's fetch of the tool's JWKS gets: the stand-in tool's key set; 404 elsewhere. */
export function toolJwksFetch(
  keys: () => Promise<JSONWebKeySet> = async () => (await toolKey()).jwks,
): typeof fetch {
  return async (input) => {
    const url = input instanceof Request ? input.url : input.toString();
    if (url !== TOOL.jwksUrl) return new Response("not found", { status: 404 });
    return Response.json(await keys());
  };
}

/** Signs as the tool does: RS256 with the tool's kid (header overrides for the bad cases). */
export async function toolSign(
  payload: JWTPayload,
  header: { kid?: string | undefined; alg?: string } = {},
  key?: ToolKey,
): Promise<string> {
  const k = key ?? (await toolKey());
  const protectedHeader: { alg: string; kid?: string; typ: string } = { alg: "RS256", typ: "JWT" };
  const kid = "kid" in header ? header.kid : k.kid;
  if (kid !== undefined) protectedHeader.kid = kid;
  return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(k.privateKey);
}

export async function newPlatform(options: Partial<DevPlatformOptions> = {}): Promise<DevPlatform> {
  return createDevPlatform({
    baseUrl: PLATFORM_URL,
    tool: TOOL,
    clientId: CLIENT_ID,
    keyPair: await keyPair(),
    fetchImpl: toolJwksFetch(),
    ...options,
  });
}

export const TOKEN_URL = `${PLATFORM_URL}/mod/lti/token.php`;

/** A client assertion as the tool signs it (Security Framework §4.1.1), with overrides. */
export async function clientAssertion(overrides: JWTPayload = {}, clientId = CLIENT_ID): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return toolSign({
    iss: clientId,
    sub: clientId,
    aud: TOKEN_URL,
    iat,
    exp: iat + 300,
    jti: crypto.randomUUID(),
    ...overrides,
  });
}

export async function postToken(platform: DevPlatform, fields: Record<string, string>): Promise<Response> {
  return platform.app.request(TOKEN_URL, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
}

/** An access token for the scopes, got from the token endpoint as the tool gets one. */
export async function accessToken(platform: DevPlatform, scopes: readonly string[], clientId = CLIENT_ID) {
  const res = await postToken(platform, {
    grant_type: "client_credentials",
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: await clientAssertion({}, clientId),
    scope: scopes.join(" "),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (res.status !== 200 || !body.access_token)
    throw new Error(`no token: ${res.status} ${body.error_description}`);
  return body.access_token;
}

/** The verified claims of the id_token the platform posts for a launch (or a deep-linking request). */
export async function launchClaims(
  platform: DevPlatform,
  request: Parameters<DevPlatform["loginInitiation"]>[0],
  redirectUri = TOOL.redirectUris[0] ?? "",
): Promise<JWTPayload> {
  const login = platform.loginInitiation(request);
  const get = (name: string) => login.fields.find((f) => f.name === name)?.value ?? "";
  const res = await requestAuth(platform, {
    scope: "openid",
    response_type: "id_token",
    response_mode: "form_post",
    prompt: "none",
    client_id: get("client_id"),
    redirect_uri: redirectUri,
    login_hint: get("login_hint"),
    lti_message_hint: get("lti_message_hint"),
    state: "s",
    nonce: crypto.randomUUID(),
  });
  const form = onlyForm(await res.text(), PLATFORM_URL);
  const token = field(form, "id_token");
  if (!token) throw new Error(`no id_token: ${field(form, "error")} ${field(form, "error_description")}`);
  const { payload } = await jwtVerify(token, createLocalJWKSet(platform.jwks()), {
    issuer: platform.baseUrl,
  });
  return payload;
}

/** A deep-linking response as the tool signs it (Deep Linking 2.0 §4.5), with overrides. */
export async function deepLinkingResponse(
  request: JWTPayload,
  overrides: JWTPayload = {},
  header: { kid?: string | undefined; alg?: string } = {},
): Promise<string> {
  const settings = request[CLAIM.deepLinkingSettings] as { data?: string };
  const iat = Math.floor(Date.now() / 1000);
  return toolSign(
    {
      iss: String(request.aud),
      aud: String(request.iss),
      iat,
      exp: iat + 600,
      nonce: crypto.randomUUID(),
      [CLAIM.messageType]: "LtiDeepLinkingResponse",
      [CLAIM.version]: LTI_VERSION,
      [CLAIM.deploymentId]: request[CLAIM.deploymentId],
      [CLAIM.deepLinkingData]: settings.data,
      [CLAIM.contentItems]: [],
      ...overrides,
    },
    header,
  );
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
    if (payload[CLAIM.messageType] === "LtiDeepLinkingRequest") {
      // The selection page: the request's claims ride along in the form (a test tool only).
      const request = Buffer.from(JSON.stringify(payload)).toString("base64url");
      return c.html(
        `<h1>Choose an activity, ${String(payload.name)}</h1>
<form method="post" action="/lti/deep-link"><input type="hidden" name="request" value="${request}">
<input type="radio" name="activity" value="module-1" checked> Module 1
<input type="radio" name="activity" value="module-2"> Module 2
<button>Add</button></form>`,
      );
    }
    return c.html(`<h1>Welcome ${String(payload.name)}</h1>`);
  });
  // The tool's deep-linking response, auto-posted to the platform as the form field JWT.
  app.post("/lti/deep-link", async (c) => {
    const form = await c.req.parseBody();
    const request = JSON.parse(Buffer.from(String(form.request), "base64url").toString("utf8")) as JWTPayload;
    const activity = String(form.activity);
    const jwt = await deepLinkingResponse(request, {
      [CLAIM.contentItems]: [
        {
          type: "ltiResourceLink",
          title: activity === "module-1" ? "Module 1" : "Module 2",
          url: `${TOOL_URL}/activities/${activity}`,
          custom: { activity },
          lineItem: { scoreMaximum: 100, label: activity, resourceId: activity, tag: "module" },
        },
      ],
    });
    const returnUrl = (request[CLAIM.deepLinkingSettings] as { deep_link_return_url: string })
      .deep_link_return_url;
    return c.html(
      `<form method="post" action="${returnUrl.replaceAll("&", "&amp;")}"><input type="hidden" name="JWT" value="${jwt}"></form><script>document.forms[0].submit()</script>`,
    );
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
