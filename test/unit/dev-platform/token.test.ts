import { beforeEach, describe, expect, it } from "vitest";
import { type DevPlatform, SCOPE } from "../../../dev/platform/index.js";
import {
  CLIENT_ID,
  clientAssertion,
  newPlatform,
  PLATFORM_URL,
  postToken,
  TOKEN_URL,
  TOOL,
  toolJwksFetch,
  toolKey,
  toolSign,
} from "./fixtures.js";

const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

let platform: DevPlatform;
beforeEach(async () => {
  platform = await newPlatform();
});

async function tokenRequest(
  assertion: string,
  scope: string = SCOPE.score,
  extra: Record<string, string> = {},
) {
  const res = await postToken(platform, {
    grant_type: "client_credentials",
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: assertion,
    scope,
    ...extra,
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

describe("the token endpoint (client_credentials with a JWT assertion)", () => {
  it("grants an hour-long bearer token for the requested scopes", async () => {
    const { status, headers, json } = await tokenRequest(
      await clientAssertion(),
      `${SCOPE.score} ${SCOPE.lineItem}`,
    );
    expect(status).toBe(200);
    expect(headers.get("cache-control")).toBe("no-store");
    expect(json).toEqual({
      access_token: expect.stringMatching(/^[\w-]{20,}$/),
      token_type: "Bearer",
      expires_in: 3600,
      scope: `${SCOPE.score} ${SCOPE.lineItem}`,
    });
  });

  it("accepts the issuer as the assertion's audience too, and an audience list", async () => {
    expect((await tokenRequest(await clientAssertion({ aud: PLATFORM_URL }))).status).toBe(200);
    expect(
      (await tokenRequest(await clientAssertion({ aud: ["https://elsewhere.test", TOKEN_URL] }))).status,
    ).toBe(200);
  });

  it("records each request with the assertion's decoded header and claims", async () => {
    const assertion = await clientAssertion({ jti: "jti-recorded" });
    await tokenRequest(assertion, SCOPE.memberships);
    const [record] = platform.tokenRequests();
    expect(record).toMatchObject({
      status: 200,
      clientId: CLIENT_ID,
      contentType: "application/x-www-form-urlencoded",
      grantedScopes: [SCOPE.memberships],
      params: {
        grant_type: "client_credentials",
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: assertion,
        scope: SCOPE.memberships,
      },
      assertionHeader: { alg: "RS256", kid: "tool-key-1", typ: "JWT" },
      assertionClaims: { iss: CLIENT_ID, sub: CLIENT_ID, aud: TOKEN_URL, jti: "jti-recorded" },
    });
  });

  it("grants only the scopes the tool was granted, like Moodle (the intersection)", async () => {
    platform = await newPlatform({ tool: { ...TOOL, scopes: [SCOPE.score] } });
    const { json } = await tokenRequest(await clientAssertion(), `${SCOPE.score} ${SCOPE.memberships}`);
    expect(json.scope).toBe(SCOPE.score);
    const none = await tokenRequest(await clientAssertion(), SCOPE.memberships);
    expect(none.status).toBe(400);
    expect(none.json.error).toBe("invalid_scope");
  });

  it("refuses a reused jti", async () => {
    const assertion = await clientAssertion();
    expect((await tokenRequest(assertion)).status).toBe(200);
    const again = await tokenRequest(assertion);
    expect(again.status).toBe(401);
    expect(again.json).toMatchObject({ error: "invalid_client" });
    expect(String(again.json.error_description)).toContain("already used");
  });

  const now = () => Math.floor(Date.now() / 1000);
  it.each([
    ["another audience", { aud: "https://elsewhere.test/token" }, "aud"],
    ["iss not a registered client_id", { iss: "someone", sub: "someone" }, "someone"],
    ["sub different from iss", { sub: "someone-else" }, "sub"],
    ["an expired assertion", { iat: now() - 600, exp: now() - 300 }, "exp"],
    ["no jti", { jti: undefined }, "jti"],
    ["no exp", { exp: undefined }, "exp"],
  ])("refuses %s with 401 invalid_client", async (_name, overrides, mentions) => {
    const { status, json } = await tokenRequest(await clientAssertion(overrides));
    expect(status).toBe(401);
    expect(json.error).toBe("invalid_client");
    expect(String(json.error_description)).toContain(mentions);
  });

  it("refuses an assertion with no kid, or one the tool's JWKS does not have", async () => {
    const payload = {
      iss: CLIENT_ID,
      sub: CLIENT_ID,
      aud: TOKEN_URL,
      iat: now(),
      exp: now() + 60,
      jti: "k1",
    };
    const noKid = await tokenRequest(await toolSign(payload, { kid: undefined }));
    expect(noKid.status).toBe(401);
    expect(String(noKid.json.error_description)).toContain("kid");
    const unknown = await tokenRequest(await toolSign({ ...payload, jti: "k2" }, { kid: "other" }));
    expect(unknown.status).toBe(401);
    expect(String(unknown.json.error_description)).toContain('no key with kid "other"');
  });

  it("refuses an assertion signed with a key the tool does not publish", async () => {
    const stranger = await toolKey("tool-key-1-but-another");
    const forged = await toolSign(
      { iss: CLIENT_ID, sub: CLIENT_ID, aud: TOKEN_URL, iat: now(), exp: now() + 60, jti: "f" },
      { kid: "tool-key-1" },
      stranger,
    );
    const { status, json } = await tokenRequest(forged);
    expect(status).toBe(401);
    expect(String(json.error_description)).toContain("signature");
  });

  it("picks up a tool's new key at once (key rotation)", async () => {
    const next = await toolKey("tool-key-2");
    let published = [...(await toolKey()).jwks.keys];
    platform = await newPlatform({ fetchImpl: toolJwksFetch(async () => ({ keys: published })) });
    expect((await tokenRequest(await clientAssertion())).status).toBe(200);
    published = [...published, ...next.jwks.keys];
    const rotated = await toolSign(
      { iss: CLIENT_ID, sub: CLIENT_ID, aud: TOKEN_URL, iat: now(), exp: now() + 60, jti: "r" },
      {},
      next,
    );
    expect((await tokenRequest(rotated)).status).toBe(200);
  });

  it("refuses a tool with no JWKS URL", async () => {
    platform = await newPlatform({ tool: { ...TOOL, jwksUrl: undefined } });
    const { status, json } = await tokenRequest(await clientAssertion());
    expect(status).toBe(401);
    expect(String(json.error_description)).toContain("no JWKS URL");
  });

  it("refuses the wrong grant type, assertion type, or a missing field", async () => {
    const wrongGrant = await tokenRequest(await clientAssertion(), SCOPE.score, { grant_type: "password" });
    expect(wrongGrant).toMatchObject({ status: 400, json: { error: "unsupported_grant_type" } });
    const wrongType = await tokenRequest(await clientAssertion(), SCOPE.score, {
      client_assertion_type: "x",
    });
    expect(wrongType).toMatchObject({ status: 401, json: { error: "invalid_client" } });
    const noScope = await postToken(platform, {
      grant_type: "client_credentials",
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await clientAssertion(),
    });
    expect(noScope.status).toBe(400);
    expect(await noScope.json()).toMatchObject({
      error: "invalid_request",
      error_description: "Missing scope.",
    });
  });

  it("wants a form body, and only POST", async () => {
    const json = await platform.app.request(TOKEN_URL, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "client_credentials" }),
    });
    expect(json.status).toBe(400);
    expect((await platform.app.request(TOKEN_URL)).status).toBe(405);
  });
});

describe("access tokens at the services", () => {
  const lineItems = `${PLATFORM_URL}/mod/lti/services.php/2/lineitems?type_id=1`;

  it("expire after an hour", async () => {
    let clock = Date.now();
    platform = await newPlatform({ now: () => clock });
    const { json } = await tokenRequest(await clientAssertion(), SCOPE.lineItem);
    const headers = { authorization: `Bearer ${String(json.access_token)}` };
    expect((await platform.app.request(lineItems, { headers })).status).toBe(200);
    clock += 3600_000;
    const expired = await platform.app.request(lineItems, { headers });
    expect(expired.status).toBe(401);
    expect(expired.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("are refused when unknown or missing", async () => {
    const unknown = await platform.app.request(lineItems, { headers: { authorization: "Bearer nope" } });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ error: "invalid_token" });
    expect((await platform.app.request(lineItems)).status).toBe(401);
  });
});
