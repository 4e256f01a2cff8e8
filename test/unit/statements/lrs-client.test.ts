import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createLrsClient, parseRetryAfter, statementsUrl } from "../../../statements/lrs-client.js";
import { LrsCredentials } from "../../../statements/ports.js";

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A fetch served by an in-process Hono app: no network, real Request/Response objects. */
function appFetch(app: Hono): typeof fetch {
  return (input, init) => Promise.resolve(app.request(new Request(input, init)));
}

function recordingLrs(answer: (seen: Seen) => Response) {
  const seen: Seen[] = [];
  const app = new Hono();
  app.all("*", async (c) => {
    const s = {
      method: c.req.method,
      url: c.req.url,
      headers: Object.fromEntries(c.req.raw.headers.entries()),
      body: await c.req.text(),
    };
    seen.push(s);
    return answer(s);
  });
  return { seen, fetch: appFetch(app) };
}

const credentials = new LrsCredentials("lrs-key", "lrs-secret");

describe("the LRS client", () => {
  it("sends nothing, credentials included, to an endpoint that is not https (one saved before the rule)", async () => {
    const lrs = recordingLrs(() => Response.json(["a"]));
    for (const endpoint of ["http://127.0.0.1:9001/xapi/", "http://lrs.example/xapi/"]) {
      const client = createLrsClient({ endpoint, credentials, timeoutMs: 1_000, fetch: lrs.fetch });
      const answer = await client.postStatements(['{"id":"a"}']);
      expect(answer).toMatchObject({ kind: "network", reason: "other" });
      expect((answer as { message: string }).message).toContain("must be https");
    }
    expect(lrs.seen).toEqual([]);
  });

  it("posts the stored bytes as one JSON array, with the xAPI version header and Basic auth", async () => {
    const lrs = recordingLrs(() => Response.json(["a", "b"]));
    const client = createLrsClient({
      endpoint: "https://lrs.example/xapi",
      credentials,
      timeoutMs: 1000,
      fetch: lrs.fetch,
    });
    const bodies = ['{"id":"a","verb":{"id":"x"}}', '{ "id" : "b" }'];
    const answer = await client.postStatements(bodies);
    expect(answer).toEqual({ kind: "response", status: 200, body: '["a","b"]' });
    expect(lrs.seen).toHaveLength(1);
    expect(lrs.seen[0]).toMatchObject({
      method: "POST",
      url: "https://lrs.example/xapi/statements",
      body: '[{"id":"a","verb":{"id":"x"}},{ "id" : "b" }]',
      headers: {
        "x-experience-api-version": "1.0.3",
        authorization: `Basic ${Buffer.from("lrs-key:lrs-secret").toString("base64")}`,
        "content-type": "application/json; charset=utf-8",
      },
    });
  });

  it("gets one statement by id in the exact format", async () => {
    const lrs = recordingLrs(() => new Response("{}", { status: 200 }));
    const client = createLrsClient({
      endpoint: "https://lrs.example/x/",
      credentials,
      timeoutMs: 1000,
      fetch: lrs.fetch,
    });
    await client.getStatement("6a1e1f30-0000-4000-8000-000000000001");
    expect(lrs.seen[0]?.url).toBe(
      "https://lrs.example/x/statements?statementId=6a1e1f30-0000-4000-8000-000000000001&format=exact",
    );
    expect(lrs.seen[0]?.headers["x-experience-api-version"]).toBe("1.0.3");
  });

  it("keeps the HTTP status and Retry-After of an error answer", async () => {
    const lrs = recordingLrs(
      () => new Response('{"message":"conflict"}', { status: 409, headers: { "Retry-After": "7" } }),
    );
    const client = createLrsClient({
      endpoint: "https://lrs.example/",
      credentials,
      timeoutMs: 1000,
      fetch: lrs.fetch,
    });
    expect(await client.postStatements(["{}"])).toEqual({
      kind: "response",
      status: 409,
      body: '{"message":"conflict"}',
      retryAfterMs: 7000,
    });
  });

  it("reports a timeout when the LRS does not answer in time", async () => {
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      });
    const client = createLrsClient({
      endpoint: "https://lrs.example/",
      credentials,
      timeoutMs: 20,
      fetch: hanging,
    });
    expect(await client.postStatements(["{}"])).toEqual({
      kind: "network",
      reason: "timeout",
      message: "the LRS did not answer in time",
    });
  });

  it("reports a refused connection", async () => {
    const refused: typeof fetch = () =>
      Promise.reject(
        new TypeError("fetch failed", {
          cause: Object.assign(new Error("connect"), { code: "ECONNREFUSED" }),
        }),
      );
    const client = createLrsClient({
      endpoint: "https://lrs.example/",
      credentials,
      timeoutMs: 20,
      fetch: refused,
    });
    expect(await client.postStatements(["{}"])).toMatchObject({ kind: "network", reason: "refused" });
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates, and ignores nonsense", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe("statementsUrl", () => {
  it("resolves the statements resource under the endpoint with or without a trailing slash", () => {
    expect(statementsUrl("https://lrs.example/data/xAPI").href).toBe(
      "https://lrs.example/data/xAPI/statements",
    );
    expect(statementsUrl("https://lrs.example/data/xAPI/").href).toBe(
      "https://lrs.example/data/xAPI/statements",
    );
  });
});
