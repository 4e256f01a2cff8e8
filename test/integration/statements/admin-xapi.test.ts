import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoLrsRouteStore } from "../../../adapters/dynamo/lrs-routes.js";
import { createAesGcmCipher } from "../../../statements/credential-cipher.js";
import { type Stack, startStack } from "../../support/stack.js";

const cipher = createAesGcmCipher({ current: { kid: "test-1", key: new Uint8Array(32).fill(5) } });
let stack: Stack;
let routeId: string;

beforeAll(async () => {
  stack = await startStack({ xapiCipher: cipher });
  routeId = (
    await new DynamoLrsRouteStore(stack.aws.doc, stack.aws.tableName, cipher).saveRoute({
      scope: { issuer: "https://moodle.test", clientId: "c1" },
      name: "Provider LRS",
      endpoint: "http://127.0.0.1:9/xapi/",
      username: "key",
      password: "secret",
    })
  ).routeId;
});
afterAll(async () => {
  await stack?.stop();
});

const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
  redirect: "manual" as const,
});

describe("xAPI delivery page for tool administrators", () => {
  it("needs the administrator's sign-in, lists the routes, and accepts its replay form", async () => {
    const base = stack.tool.url;
    expect((await fetch(`${base}/admin/xapi`)).status).toBe(401);
    const key = Buffer.from(await stack.tool.deps.adminKey()).toString("base64url");
    const login = await fetch(`${base}/admin/login`, form({ key }));
    expect(login.status).toBe(303);
    const token = new URL(login.headers.get("location") ?? "", base).searchParams.get("s") ?? "";
    const page = await fetch(`${base}/admin/xapi?s=${encodeURIComponent(token)}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Provider LRS");
    expect(html).not.toContain("secret");
    // The page's forms carry the token as a hidden field, as a browser would post them.
    const replay = await fetch(`${base}/admin/xapi/routes/${routeId}/parked/replay`, form({ s: token }));
    expect(replay.status).toBe(303);
    const forged = await fetch(`${base}/admin/xapi/routes/${routeId}/parked/replay`, form({ s: "forged" }));
    expect(forged.status).toBe(401);
    // Ids too long for a DynamoDB key name nothing: 404, from the form and from the API alike.
    const long = "x".repeat(2100);
    const fromForm = await fetch(
      `${base}/admin/xapi/routes/${routeId}/parked/${long}/replay`,
      form({ s: token }),
    );
    expect(fromForm.status).toBe(404);
    const fromApi = await fetch(
      `${base}/admin/xapi/api/routes/${long}/parked/replay?s=${encodeURIComponent(token)}`,
      { method: "POST" },
    );
    expect(fromApi.status).toBe(404);
    expect(fromApi.headers.get("content-type")).toBe("application/problem+json");
  });
});
