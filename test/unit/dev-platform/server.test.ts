import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MEDIA_TYPE, type RunningDevPlatform, SCOPE, startDevPlatform } from "../../../dev/platform/index.js";
import { toolKey, toolSign } from "./fixtures.js";

/**
 * The platform's services over real HTTP on loopback: the platform fetches the stand-in
 * tool's JWKS with the global fetch, as it does against a running tool.
 */
let platform: RunningDevPlatform;
let toolServer: ReturnType<typeof serve>;
let toolUrl: string;

beforeAll(async () => {
  const jwks = (await toolKey()).jwks;
  const app = new Hono().get("/.well-known/jwks.json", (c) => c.json(jwks));
  toolServer = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 });
  const address = await new Promise<AddressInfo>((resolve) =>
    toolServer.once("listening", () => resolve(toolServer.address() as AddressInfo)),
  );
  toolUrl = `http://127.0.0.1:${address.port}`;
  platform = await startDevPlatform({
    host: "localhost",
    clientId: "loopback-tool",
    tool: {
      loginInitiationUrl: `${toolUrl}/lti/login`,
      targetLinkUri: `${toolUrl}/app`,
      jwksUrl: `${toolUrl}/.well-known/jwks.json`,
    },
  });
});

afterAll(async () => {
  await platform?.stop();
  await new Promise<void>((resolve) => toolServer?.close(() => resolve()));
});

describe("the services over loopback HTTP", () => {
  it("serves the configuration, grants a token against the tool's JWKS, and takes a score", async () => {
    const config = (await (await fetch(`${platform.url}/.well-known/openid-configuration`)).json()) as {
      token_endpoint: string;
    };
    expect(config.token_endpoint).toBe(`${platform.url}/mod/lti/token.php`);

    const iat = Math.floor(Date.now() / 1000);
    const assertion = await toolSign({
      iss: "loopback-tool",
      sub: "loopback-tool",
      aud: config.token_endpoint,
      iat,
      exp: iat + 60,
      jti: crypto.randomUUID(),
    });
    const tokenRes = await fetch(config.token_endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: assertion,
        scope: `${SCOPE.lineItem} ${SCOPE.score}`,
      }),
    });
    expect(tokenRes.status).toBe(200);
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    const auth = { authorization: `Bearer ${access_token}` };

    const created = await fetch(`${platform.url}/mod/lti/services.php/2/lineitems?type_id=1`, {
      method: "POST",
      headers: { ...auth, "content-type": MEDIA_TYPE.lineItem },
      body: JSON.stringify({ label: "Module 1", scoreMaximum: 10, resourceId: "m1" }),
    });
    expect(created.status).toBe(201);
    const item = new URL(((await created.json()) as { id: string }).id);
    item.pathname += "/scores";
    const scored = await fetch(item, {
      method: "POST",
      headers: { ...auth, "content-type": MEDIA_TYPE.score },
      body: JSON.stringify({
        userId: "4",
        scoreGiven: 10,
        scoreMaximum: 10,
        activityProgress: "Completed",
        gradingProgress: "FullyGraded",
        timestamp: new Date().toISOString(),
      }),
    });
    expect(scored.status).toBe(200);
    expect(platform.platform.gradebook("2")).toMatchObject([{ userId: "4", grade: 10 }]);
  });
});
