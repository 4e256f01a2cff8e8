import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { CLAIM, type DevPlatform, parseForms, SCOPE } from "../../../dev/platform/index.js";
import { launchClaims, newPlatform, PLATFORM_URL } from "./fixtures.js";

const TOOL2 = "http://127.0.0.1:9100";
const REGISTRATION_URL = `${TOOL2}/lti/register`;

/** A client registration as a tool posts it (Dynamic Registration §3.5), Moodle-valid. */
function registrationBody(): Record<string, unknown> {
  return {
    application_type: "web",
    response_types: ["id_token"],
    grant_types: ["implicit", "client_credentials"],
    initiate_login_uri: `${TOOL2}/lti/login`,
    redirect_uris: [`${TOOL2}/lti/launch`],
    client_name: "Second tool",
    jwks_uri: `${TOOL2}/.well-known/jwks.json`,
    logo_uri: `${TOOL2}/logo.png`,
    token_endpoint_auth_method: "private_key_jwt",
    scope: `${SCOPE.lineItem} ${SCOPE.score} ${SCOPE.memberships}`,
    [CLAIM.toolConfiguration]: {
      domain: "127.0.0.1:9100",
      target_link_uri: `${TOOL2}/app`,
      custom_parameters: { from: "registration" },
      claims: ["iss", "sub", "name", "given_name", "family_name", "email"],
      messages: [
        { type: "LtiResourceLinkRequest" },
        { type: "LtiDeepLinkingRequest", target_link_uri: `${TOOL2}/lti/deep-link` },
      ],
    },
  };
}

let platform: DevPlatform;
beforeEach(async () => {
  platform = await newPlatform();
});

/** The registration_token from the URL the admin's browser is sent to. */
async function registrationToken(): Promise<string> {
  const url = new URL(await platform.startDynamicRegistration(REGISTRATION_URL));
  return url.searchParams.get("registration_token") ?? "";
}

async function register(body: unknown, token: string | undefined, contentType = "application/json") {
  const headers: Record<string, string> = { "content-type": contentType };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await platform.app.request(`${PLATFORM_URL}/mod/lti/openid-registration.php`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("the OpenID configuration (Dynamic Registration §3.3)", () => {
  it.each(["/.well-known/openid-configuration", "/mod/lti/openid-configuration.php"])(
    "is served at %s, Moodle-shaped",
    async (path) => {
      const res = await platform.app.request(`${PLATFORM_URL}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({
        issuer: PLATFORM_URL,
        authorization_endpoint: `${PLATFORM_URL}/mod/lti/auth.php`,
        token_endpoint: `${PLATFORM_URL}/mod/lti/token.php`,
        token_endpoint_auth_methods_supported: ["private_key_jwt"],
        token_endpoint_auth_signing_alg_values_supported: ["RS256"],
        jwks_uri: `${PLATFORM_URL}/mod/lti/certs.php`,
        registration_endpoint: `${PLATFORM_URL}/mod/lti/openid-registration.php`,
        scopes_supported: [
          "openid",
          SCOPE.lineItem,
          SCOPE.lineItemReadOnly,
          SCOPE.resultReadOnly,
          SCOPE.score,
          SCOPE.memberships,
        ],
        response_types_supported: ["id_token"],
        subject_types_supported: ["public", "pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        claims_supported: ["sub", "iss", "name", "given_name", "family_name", "email"],
        [CLAIM.platformConfiguration]: {
          product_family_code: "moodle",
          version: "4.5 (Build: 20241007)",
          messages_supported: [
            { type: "LtiResourceLinkRequest" },
            { type: "LtiDeepLinkingRequest", placements: ["ContentArea"] },
          ],
        },
      });
    },
  );
});

describe("starting a registration (the admin's 'Add LTI Advantage')", () => {
  it("opens the tool's URL with openid_configuration and a short-lived signed registration_token", async () => {
    const url = new URL(await platform.startDynamicRegistration(`${REGISTRATION_URL}?lang=cy`));
    expect(url.origin + url.pathname).toBe(REGISTRATION_URL);
    expect(url.searchParams.get("lang")).toBe("cy");
    expect(url.searchParams.get("openid_configuration")).toBe(
      `${PLATFORM_URL}/.well-known/openid-configuration`,
    );
    const token = url.searchParams.get("registration_token") ?? "";
    const { payload } = await jwtVerify(token, createLocalJWKSet(platform.jwks()), { issuer: PLATFORM_URL });
    expect(payload.scope).toBe("reg");
    expect(payload.sub).toMatch(/^[A-Za-z0-9]{15}$/);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
  });

  it("redirects the browser from startltiadvregistration.php", async () => {
    const res = await platform.app.request(
      `${PLATFORM_URL}/mod/lti/startltiadvregistration.php?url=${encodeURIComponent(REGISTRATION_URL)}`,
    );
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toMatch(
      /^http:\/\/127\.0\.0\.1:9100\/lti\/register\?openid_configuration=/,
    );
    const bad = await platform.app.request(`${PLATFORM_URL}/mod/lti/startltiadvregistration.php?url=ftp://x`);
    expect(bad.status).toBe(400);
  });

  it("offers the register-by-URL form and its dialog on the home page", async () => {
    const html = await (await platform.app.request(`${PLATFORM_URL}/`)).text();
    expect(html).toContain('id="register-tool-form"');
    expect(html).toContain('action="http://localhost:8790/mod/lti/startltiadvregistration.php"');
    expect(html).toContain('<dialog id="registration-dialog"');
    expect(html).toContain("org.imsglobal.lti.close");
  });
});

describe("the registration endpoint", () => {
  it("creates a new pending tool and answers the registration with client_id and deployment_id", async () => {
    const token = await registrationToken();
    const body = registrationBody();
    const { status, json } = await register(body, token);
    expect(status).toBe(200);
    const clientId = decodeJwt(token).sub;
    expect(json.client_id).toBe(clientId);
    expect(json.client_name).toBe("Second tool");
    // Moodle grants score, result and read-only line items with any AGS scope.
    expect(String(json.scope).split(" ")).toEqual([
      SCOPE.score,
      SCOPE.resultReadOnly,
      SCOPE.lineItemReadOnly,
      SCOPE.lineItem,
      SCOPE.memberships,
    ]);
    expect(json[CLAIM.toolConfiguration]).toEqual({
      ...(body[CLAIM.toolConfiguration] as object),
      deployment_id: "2",
    });

    const tool = platform.tools().find((t) => t.clientId === clientId);
    expect(tool).toMatchObject({
      deploymentId: "2",
      name: "Second tool",
      status: "pending",
      loginInitiationUrl: `${TOOL2}/lti/login`,
      targetLinkUri: `${TOOL2}/app`,
      redirectUris: [`${TOOL2}/lti/launch`],
      jwksUrl: `${TOOL2}/.well-known/jwks.json`,
      deepLinkingUrl: `${TOOL2}/lti/deep-link`,
      custom: { from: "registration" },
      domain: "127.0.0.1:9100",
      registeredBy: "dynamic-registration",
    });
    expect(platform.tools().map((t) => t.deploymentId)).toEqual(["1", "2"]);
    expect(platform.registration(clientId)).toMatchObject({ clientId, deploymentIds: ["2"] });
  });

  it("keeps the exact body received, for tests to assert the tool's payload", async () => {
    const token = await registrationToken();
    const raw = JSON.stringify(registrationBody(), null, 2);
    await register(raw, token);
    const [record] = platform.registrations();
    expect(record?.raw).toBe(raw);
    expect(record?.body).toEqual(registrationBody());
    expect(record?.authorization).toBe(`Bearer ${token}`);
    expect(record?.contentType).toBe("application/json");
    expect(record?.status).toBe(200);
  });

  it("takes each registration token once", async () => {
    const token = await registrationToken();
    expect((await register(registrationBody(), token)).status).toBe(200);
    const again = await register(registrationBody(), token);
    expect(again.status).toBe(401);
    expect(again.json).toMatchObject({ error: "invalid_token" });
    expect(String(again.json.error_description)).toContain("token_already_used");
    expect(platform.tools()).toHaveLength(2);
  });

  it("lets the tool fix a refused registration and post again with the same token", async () => {
    const token = await registrationToken();
    expect((await register({ ...registrationBody(), client_name: "" }, token)).status).toBe(400);
    expect((await register(registrationBody(), token)).status).toBe(200);
  });

  it.each([
    ["no Authorization header", undefined],
    ["a token the platform did not sign", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"],
    ["an opaque string", "not-a-token"],
  ])("refuses %s with 401", async (_name, token) => {
    const { status, json } = await register(registrationBody(), token);
    expect(status).toBe(401);
    expect(json.error).toBe("invalid_token");
    expect(platform.tools()).toHaveLength(1);
  });

  it("refuses an expired registration token", async () => {
    let now = Date.now();
    platform = await newPlatform({ now: () => now });
    const token = await registrationToken();
    now += 3601_000;
    const { status, json } = await register(registrationBody(), token);
    expect(status).toBe(401);
    expect(String(json.error_description)).toMatch(/exp/);
  });

  it("refuses a body that is not JSON", async () => {
    const token = await registrationToken();
    expect((await register(registrationBody(), token, "application/x-www-form-urlencoded")).status).toBe(400);
    expect((await register("{nope", token)).json).toMatchObject({ error: "invalid_client_metadata" });
  });

  const set = (key: string, value: unknown) => (b: Record<string, unknown>) => {
    b[key] = value;
  };
  const drop = (key: string) => (b: Record<string, unknown>) => {
    delete b[key];
  };
  const config = (patch: Record<string, unknown>) => (b: Record<string, unknown>) => {
    b[CLAIM.toolConfiguration] = { ...(b[CLAIM.toolConfiguration] as object), ...patch };
  };
  const cases: [string, (b: Record<string, unknown>) => void, string, string][] = [
    [
      "application_type other than web",
      set("application_type", "native"),
      "invalid_client_metadata",
      "application_type",
    ],
    ["no client_name", drop("client_name"), "invalid_client_metadata", "client_name"],
    ["no jwks_uri", drop("jwks_uri"), "invalid_client_metadata", "jwks_uri"],
    ["no initiate_login_uri", drop("initiate_login_uri"), "invalid_client_metadata", "initiate_login_uri"],
    ["empty redirect_uris", set("redirect_uris", []), "invalid_redirect_uri", "redirect_uris"],
    [
      "a redirect URI that is not a URL",
      set("redirect_uris", ["launch"]),
      "invalid_redirect_uri",
      "redirect_uris",
    ],
    [
      "response_types without id_token",
      set("response_types", ["code"]),
      "invalid_client_metadata",
      "response_types",
    ],
    [
      "grant_types without client_credentials",
      set("grant_types", ["implicit"]),
      "invalid_client_metadata",
      "grant_types",
    ],
    [
      "grant_types without implicit",
      set("grant_types", ["client_credentials"]),
      "invalid_client_metadata",
      "grant_types",
    ],
    [
      "token_endpoint_auth_method other than private_key_jwt",
      set("token_endpoint_auth_method", "client_secret_basic"),
      "invalid_client_metadata",
      "token_endpoint_auth_method",
    ],
    [
      "no tool configuration claim",
      drop(CLAIM.toolConfiguration),
      "invalid_client_metadata",
      CLAIM.toolConfiguration,
    ],
    ["no domain", config({ domain: undefined }), "invalid_client_metadata", "domain"],
    [
      "a domain without the port",
      config({ domain: "127.0.0.1" }),
      "invalid_client_metadata",
      "domain_targetlinkuri_mismatch",
    ],
    [
      "a domain of another host",
      config({ domain: "tool.example" }),
      "invalid_client_metadata",
      "domain_targetlinkuri_mismatch",
    ],
    [
      "no target_link_uri",
      config({ target_link_uri: undefined }),
      "invalid_client_metadata",
      "target_link_uri",
    ],
    ["no messages", config({ messages: undefined }), "invalid_client_metadata", "messages"],
    ["no claims", config({ claims: undefined }), "invalid_client_metadata", "claims"],
  ];
  it.each(cases)("refuses %s with 400 %s", async (_name, mutate, error, mentions) => {
    const body = registrationBody();
    mutate(body);
    const { status, json } = await register(body, await registrationToken());
    expect(status).toBe(400);
    expect(json.error).toBe(error);
    expect(String(json.error_description)).toContain(mentions);
    expect(platform.tools()).toHaveLength(1);
  });

  it("grants only what was asked: no scope, no services", async () => {
    const { json } = await register({ ...registrationBody(), scope: undefined }, await registrationToken());
    expect(json.scope).toBe("");
    expect(platform.tools()[1]?.scopes).toEqual([]);
  });
});

describe("a pending tool (Moodle holds dynamically registered tools until an admin activates them)", () => {
  async function registered() {
    const { json } = await register(registrationBody(), await registrationToken());
    const clientId = String(json.client_id);
    return {
      clientId,
      link: platform.addLink({ course: "2", title: "Second tool activity", tool: clientId }),
    };
  }

  it("cannot launch until activated; then launches with its own client_id, deployment and custom parameters", async () => {
    const { clientId, link } = await registered();
    expect(() => platform.loginInitiation({ course: "2", user: "candidate", link: link.id })).toThrow(
      /pending/,
    );
    const page = await platform.app.request(
      `${PLATFORM_URL}/mod/lti/launch.php?course=2&user=4&link=${link.id}`,
    );
    expect(page.status).toBe(403);

    expect(platform.activateTool(clientId).status).toBe("active");
    const login = platform.loginInitiation({ course: "2", user: "candidate", link: link.id });
    expect(login.action).toBe(`${TOOL2}/lti/login`);
    expect(login.fields).toContainEqual({ name: "client_id", value: clientId });
    expect(login.fields).toContainEqual({ name: "lti_deployment_id", value: "2" });
    const claims = await launchClaims(
      platform,
      { course: "2", user: "candidate", link: link.id },
      `${TOOL2}/lti/launch`,
    );
    expect(claims.aud).toBe(clientId);
    expect(claims[CLAIM.deploymentId]).toBe("2");
    expect(claims[CLAIM.targetLinkUri]).toBe(`${TOOL2}/app`);
    expect(claims[CLAIM.custom]).toEqual({ from: "registration" });
  });

  it("is activated from the home page's tool list", async () => {
    const { clientId } = await registered();
    const home = await (await platform.app.request(`${PLATFORM_URL}/`)).text();
    expect(home).toContain("Second tool");
    const form = parseForms(home, PLATFORM_URL).find((f) => f.action.endsWith("/mod/lti/toolconfigure.php"));
    if (!form) throw new Error("no activate form");
    expect(form.fields).toEqual([
      ["action", "activate"],
      ["id", clientId],
    ]);
    const res = await platform.app.request(form.action, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form.fields.map(([k, v]) => [k, v])).toString(),
    });
    expect(res.status).toBe(303);
    expect(platform.tools().find((t) => t.clientId === clientId)?.status).toBe("active");
  });
});
