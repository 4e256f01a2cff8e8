import type { LambdaContext, LambdaEvent } from "hono/aws-lambda";
import { describe, expect, it } from "vitest";
import { lambdaHandler } from "../../../functions/web/lambda.js";
import { loginFields } from "../../support/app-launch.js";
import { memoryApp } from "../../support/memory-app.js";
import { testPlatform } from "../../support/test-platform.js";

/** An HTTP API (payload 2.0) event, as API Gateway hands it to the web Lambda. */
function event(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: { host: "tool.test", ...headers },
    ...(body !== undefined ? { body, isBase64Encoded: false } : { isBase64Encoded: false }),
    requestContext: {
      accountId: "123456789012",
      apiId: "api",
      domainName: "tool.test",
      domainPrefix: "tool",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "192.0.2.1", userAgent: "test" },
      requestId: "req",
      routeKey: "$default",
      stage: "$default",
      time: "24/Nov/2026:06:00:00 +0000",
      timeEpoch: 0,
    },
  } as unknown as LambdaEvent;
}

async function lambda() {
  const { app } = await memoryApp(await testPlatform());
  const handler = lambdaHandler(app);
  return (e: LambdaEvent) =>
    handler(e, {} as LambdaContext) as Promise<{
      statusCode: number;
      body: string;
      headers: Record<string, string>;
    }>;
}

describe("the web Lambda's events", () => {
  it("answers a GET that carries a body like any GET (the body means nothing), not 'Invalid request'", async () => {
    const call = await lambda();
    const health = await call(event("GET", "/health", "stray body", { "content-type": "text/plain" }));
    expect(health.statusCode).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ ok: true });
    const app = await call(event("GET", "/app", "{}", { accept: "application/json" }));
    expect(app.statusCode).toBe(401);
    expect(app.headers["content-type"]).toBe("application/problem+json");
  });

  it("keeps the body of a POST (a login initiation through API Gateway)", async () => {
    const call = await lambda();
    const login = await call(
      event("POST", "/lti/login", new URLSearchParams(loginFields).toString(), {
        "content-type": "application/x-www-form-urlencoded",
      }),
    );
    expect(login.statusCode).toBe(302);
    expect(login.headers.location).toContain("/lti/login/check");
  });
});
