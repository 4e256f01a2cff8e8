import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { allowLoopbackEndpoints } from "../../../domain/endpoints.js";
import { AgsClient, scoresUrl } from "../../../lti-tool/advantage/ags.js";
import {
  NrpsClient,
  nextLink,
  TooManyPagesError,
  UnfollowablePageError,
} from "../../../lti-tool/advantage/nrps.js";
import {
  AccessTokenError,
  PlatformServiceClient,
  PlatformServiceError,
  SCOPES,
} from "../../../lti-tool/advantage/service-client.js";
import type { PlatformRegistration } from "../../../lti-tool/ports.js";
import { StoredKeySigner } from "../../../lti-tool/tool-keys.js";
import { MemoryToolKeyStore } from "../../support/memory-stores.js";
import { neverAnswers } from "../../support/never-answers.js";

const platform: PlatformRegistration = {
  issuer: "https://moodle.test",
  clientId: "tool-1",
  authUrl: "https://moodle.test/mod/lti/auth.php",
  tokenUrl: "https://moodle.test/mod/lti/token.php",
  jwksUrl: "https://moodle.test/mod/lti/certs.php",
  createdAt: "2026-01-01T00:00:00.000Z",
};

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/** A scripted platform: answers in order per URL prefix, records every request. */
function scripted(routes: Record<string, (call: Call) => Response>) {
  const calls: Call[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const call: Call = {
      url,
      method: init?.method ?? "GET",
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body:
        typeof init?.body === "string"
          ? init.body
          : init?.body instanceof URLSearchParams
            ? init.body.toString()
            : "",
    };
    calls.push(call);
    const key = Object.keys(routes).find((prefix) => url.startsWith(prefix));
    return key ? (routes[key] as (c: Call) => Response)(call) : new Response("no route", { status: 404 });
  };
  return { calls, fetchImpl };
}

const tokenOk = () =>
  Response.json({ access_token: "tok-1", token_type: "Bearer", expires_in: 3600, scope: "x" });

async function client(fetchImpl: typeof fetch) {
  const signer = new StoredKeySigner(new MemoryToolKeyStore());
  await signer.ensureKey();
  return { signer, client: new PlatformServiceClient({ signer, fetch: fetchImpl, backoffMs: 1 }) };
}

describe("AGS scores URL", () => {
  it("inserts /scores into the path before Moodle's query string", () => {
    expect(scoresUrl("https://moodle.test/mod/lti/services.php/2/lineitems/7/lineitem?type_id=1")).toBe(
      "https://moodle.test/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=1",
    );
    expect(scoresUrl("https://canvas.test/api/lti/courses/1/line_items/3")).toBe(
      "https://canvas.test/api/lti/courses/1/line_items/3/scores",
    );
  });
});

describe("access tokens", () => {
  it("requests a client-credentials token with a signed assertion (iss = sub = client_id, aud = token URL, jti)", async () => {
    const { calls, fetchImpl } = scripted({ [platform.tokenUrl]: tokenOk });
    const { client: c } = await client(fetchImpl);
    expect(await c.accessToken(platform, [SCOPES.score])).toBe("tok-1");
    const body = new URLSearchParams(calls[0]?.body);
    expect(calls[0]?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(body.get("grant_type")).toBe("client_credentials");
    expect(body.get("client_assertion_type")).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    expect(body.get("scope")).toBe(SCOPES.score);
    const assertion = body.get("client_assertion") ?? "";
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: "RS256" });
    const claims = decodeJwt(assertion);
    expect(claims).toMatchObject({ iss: "tool-1", sub: "tool-1", aud: platform.tokenUrl });
    expect(typeof claims.jti).toBe("string");
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(300);
  });

  it("caches the token per scope set and asks again for another set", async () => {
    const { calls, fetchImpl } = scripted({ [platform.tokenUrl]: tokenOk });
    const { client: c } = await client(fetchImpl);
    await c.accessToken(platform, [SCOPES.score, SCOPES.lineItem]);
    await c.accessToken(platform, [SCOPES.lineItem, SCOPES.score]);
    await c.accessToken(platform, [SCOPES.memberships]);
    expect(calls).toHaveLength(2);
  });

  it("uses the authorization server as audience when the platform names one", async () => {
    const { calls, fetchImpl } = scripted({ [platform.tokenUrl]: tokenOk });
    const { client: c } = await client(fetchImpl);
    await c.accessToken({ ...platform, authServer: "https://auth.moodle.test" }, [SCOPES.score]);
    expect(decodeJwt(new URLSearchParams(calls[0]?.body).get("client_assertion") ?? "").aud).toBe(
      "https://auth.moodle.test",
    );
  });

  it("signs a new assertion for each attempt, so a retry after a 5xx never repeats a jti", async () => {
    const answers = [new Response("", { status: 503 }), new Response("", { status: 502 })];
    const { calls, fetchImpl } = scripted({ [platform.tokenUrl]: () => answers.shift() ?? tokenOk() });
    const { client: c } = await client(fetchImpl);
    expect(await c.accessToken(platform, [SCOPES.score])).toBe("tok-1");
    const jtis = calls.map((k) => decodeJwt(new URLSearchParams(k.body).get("client_assertion") ?? "").jti);
    expect(jtis).toHaveLength(3);
    expect(new Set(jtis).size).toBe(3);
  });

  it("reports a refused token as a typed, non-retryable error", async () => {
    const { fetchImpl } = scripted({
      [platform.tokenUrl]: () => Response.json({ error: "invalid_client" }, { status: 401 }),
    });
    const { client: c } = await client(fetchImpl);
    const error = await c.accessToken(platform, [SCOPES.score]).catch((e) => e);
    expect(error).toBeInstanceOf(AccessTokenError);
    expect(error.retryable).toBe(false);
    expect(error.httpStatus).toBe(401);
  });
});

describe("AGS client", () => {
  it("finds the line item by resourceId, or creates it, then posts the exact score JSON", async () => {
    let created = "";
    const { calls, fetchImpl } = scripted({
      [platform.tokenUrl]: tokenOk,
      "https://moodle.test/mod/lti/services.php/2/lineitems?": (call) => {
        if (call.method !== "POST") {
          return new Response("[]", {
            headers: { "content-type": "application/vnd.ims.lis.v2.lineitemcontainer+json" },
          });
        }
        created = call.body;
        return Response.json({
          id: "https://moodle.test/mod/lti/services.php/2/lineitems/9/lineitem?type_id=1",
          ...JSON.parse(call.body),
        });
      },
      "https://moodle.test/mod/lti/services.php/2/lineitems/9/lineitem/scores": () =>
        new Response(null, { status: 204 }),
    });
    const { client: c } = await client(fetchImpl);
    const ags = new AgsClient(c);
    const item = await ags.findOrCreateLineItem(
      platform,
      "https://moodle.test/mod/lti/services.php/2/lineitems?type_id=1",
      {
        scoreMaximum: 100,
        label: "Check your understanding: the standards",
        resourceId: "module-standards",
      },
    );
    expect(JSON.parse(created)).toEqual({
      scoreMaximum: 100,
      label: "Check your understanding: the standards",
      resourceId: "module-standards",
    });
    const score = {
      userId: "u1",
      scoreGiven: 80,
      scoreMaximum: 100,
      activityProgress: "Completed" as const,
      gradingProgress: "FullyGraded" as const,
      timestamp: "2026-11-23T10:00:00.000Z",
    };
    await ags.postScore(platform, item.id, score);
    const post = calls.find((k) => k.url.includes("/scores"));
    expect(post?.url).toBe(
      "https://moodle.test/mod/lti/services.php/2/lineitems/9/lineitem/scores?type_id=1",
    );
    expect(post?.headers["content-type"]).toBe("application/vnd.ims.lis.v1.score+json");
    expect(post?.headers.authorization).toBe("Bearer tok-1");
    expect(JSON.parse(post?.body ?? "")).toEqual(score);
  });

  it("sends a new line item once: a lost answer is for the job's next try to find, not a second column", async () => {
    const lineItems = "https://lms.test/api/lineitems";
    const { calls, fetchImpl } = scripted({
      [platform.tokenUrl]: tokenOk,
      [lineItems]: (call) =>
        call.method === "POST"
          ? new Response("gateway timeout", { status: 504 }) // the LMS may have created it
          : Response.json([]),
    });
    const { client: c } = await client(fetchImpl);
    const error = await new AgsClient(c)
      .findOrCreateLineItem(platform, lineItems, { scoreMaximum: 10, label: "x", resourceId: "a" })
      .catch((e) => e);
    expect(error).toBeInstanceOf(PlatformServiceError);
    expect(error.retryable).toBe(true);
    expect(calls.filter((k) => k.method === "POST" && k.url === lineItems)).toHaveLength(1);
  });

  it("never creates a column when the course's list runs past the pages it reads", async () => {
    const lineItems = "https://lms.test/api/lineitems";
    let page = 0;
    const { calls, fetchImpl } = scripted({
      [platform.tokenUrl]: tokenOk,
      [lineItems]: (call) => {
        if (call.method === "POST")
          return Response.json({ id: `${lineItems}/new`, scoreMaximum: 10, label: "x" });
        page++;
        // An LMS that ignores the filter: other tools' items, page after page.
        return Response.json(
          [{ id: `${lineItems}/${page}`, scoreMaximum: 1, label: "other", resourceId: "zz" }],
          {
            headers: { link: `<${lineItems}?page=${page + 1}>; rel="next"` },
          },
        );
      },
    });
    const { client: c } = await client(fetchImpl);
    const error = await new AgsClient(c)
      .findOrCreateLineItem(platform, lineItems, { scoreMaximum: 10, label: "x", resourceId: "a" })
      .catch((e) => e);
    expect(error).toBeInstanceOf(TooManyPagesError);
    expect(error.retryable).toBe(false);
    expect(calls.filter((k) => k.method === "POST" && k.url.startsWith(lineItems))).toHaveLength(0);
  });

  it.each([
    ["on another site", "https://lms2.test/api/lineitems?page=2"],
    ["at no valid address", "http://[bad"],
  ])("never creates a column when the list's next page is %s (it may hold ours)", async (_label, next) => {
    const lineItems = "https://lms.test/api/lineitems";
    const { calls, fetchImpl } = scripted({
      [platform.tokenUrl]: tokenOk,
      [lineItems]: (call) =>
        call.method === "POST"
          ? Response.json({ id: `${lineItems}/new`, scoreMaximum: 10, label: "x" })
          : Response.json([{ id: `${lineItems}/1`, scoreMaximum: 1, label: "other", resourceId: "zz" }], {
              headers: { link: `<${next}>; rel="next"` },
            }),
    });
    const { client: c } = await client(fetchImpl);
    const error = await new AgsClient(c)
      .findOrCreateLineItem(platform, lineItems, { scoreMaximum: 10, label: "x", resourceId: "a" })
      .catch((e) => e);
    expect(error).toBeInstanceOf(UnfollowablePageError);
    expect(error.retryable).toBe(false);
    expect(calls.filter((k) => k.method === "POST" && k.url.startsWith(lineItems))).toHaveLength(0);
    expect(calls.some((k) => k.url.startsWith("https://lms2.test"))).toBe(false);
  });

  it("with grade sync only (no lineitem scope), searches read-only and never creates a column", async () => {
    const lineItems = "https://lms.test/api/lineitems";
    let found = false;
    const { calls, fetchImpl } = scripted({
      [platform.tokenUrl]: tokenOk,
      [lineItems]: () =>
        Response.json(found ? [{ id: `${lineItems}/7`, scoreMaximum: 10, label: "x", resourceId: "a" }] : []),
    });
    const { client: c } = await client(fetchImpl);
    const ags = new AgsClient(c);
    const grantedScopes = [SCOPES.lineItemReadOnly, SCOPES.score];
    const item = { scoreMaximum: 10, label: "x", resourceId: "a" };
    const refused = await ags
      .findOrCreateLineItem(platform, lineItems, item, { grantedScopes })
      .catch((e) => e);
    expect(refused).toBeInstanceOf(PlatformServiceError);
    expect(refused.retryable).toBe(false);
    expect(refused.userMessage).toContain("does not let the tool create one");
    expect(calls.filter((k) => k.method === "POST" && k.url.startsWith(lineItems))).toHaveLength(0);
    const asked = calls
      .filter((k) => k.url === platform.tokenUrl)
      .map((k) => new URLSearchParams(k.body).get("scope"));
    expect(asked).toEqual([SCOPES.lineItemReadOnly]);
    found = true;
    expect((await ags.findOrCreateLineItem(platform, lineItems, item, { grantedScopes })).id).toBe(
      `${lineItems}/7`,
    );
    // Scores only: nothing to search with, said at once.
    const none = await ags
      .findOrCreateLineItem(platform, lineItems, item, { grantedScopes: [SCOPES.score] })
      .catch((e) => e);
    expect(none).toBeInstanceOf(PlatformServiceError);
    expect(none.retryable).toBe(false);
  });

  it("takes the column of its own placed link when one activity is placed twice in a course", async () => {
    const lineItems = "https://lms.test/api/lineitems";
    const item = (n: number, resourceLinkId: string) => ({
      id: `${lineItems}/${n}`,
      scoreMaximum: 10,
      label: "x",
      resourceId: "a",
      resourceLinkId,
    });
    const { fetchImpl } = scripted({
      [platform.tokenUrl]: tokenOk,
      [lineItems]: () => Response.json([item(1, "link-A"), item(2, "link-B")]),
    });
    const { client: c } = await client(fetchImpl);
    const found = await new AgsClient(c).findOrCreateLineItem(platform, lineItems, {
      scoreMaximum: 10,
      label: "x",
      resourceId: "a",
      resourceLinkId: "link-B",
    });
    expect(found.id).toBe(`${lineItems}/2`);
  });

  it("retries a score on 429 and 503, honouring Retry-After, then succeeds", async () => {
    const answers = [
      new Response("slow down", { status: 429, headers: { "retry-after": "1" } }),
      new Response("", { status: 503 }),
      new Response(null, { status: 200 }),
    ];
    const { calls, fetchImpl } = scripted({
      [platform.tokenUrl]: tokenOk,
      "https://lms.test/li/1/scores": () => answers.shift() ?? new Response("", { status: 500 }),
    });
    const { client: c } = await client(fetchImpl);
    const started = Date.now();
    await new AgsClient(c).postScore(platform, "https://lms.test/li/1", {
      userId: "u",
      activityProgress: "Completed",
      gradingProgress: "FullyGraded",
      timestamp: "2026-11-23T10:00:00.000Z",
    });
    expect(calls.filter((k) => k.url.endsWith("/scores"))).toHaveLength(3);
    // The second try waited out the LMS's Retry-After (1 s): a floor, which no slow machine breaks.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });
});

describe("interactive calls", () => {
  it("give up at once on a Retry-After longer than they may wait, returning the platform's answer", async () => {
    const { calls, fetchImpl } = scripted({
      [platform.tokenUrl]: tokenOk,
      "https://lms.test/m": () => new Response("busy", { status: 503, headers: { "retry-after": "4" } }),
    });
    const signer = new StoredKeySigner(new MemoryToolKeyStore());
    await signer.ensureKey(); // its RSA key made before, not inside the call
    const c = new PlatformServiceClient({ signer, fetch: fetchImpl, maxAttempts: 2, maxRetryAfterMs: 1000 });
    const started = Date.now();
    const res = await c.call(platform, [SCOPES.memberships], "https://lms.test/m");
    expect(res.status).toBe(503);
    // One call: it did not wait the 4 s to try again (the bound only guards against that wait).
    expect(calls.filter((k) => k.url === "https://lms.test/m")).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(3_500);
  });
});

describe("service addresses", () => {
  it("calls none but https addresses: no plain http, no loopback (the Lambda runtime API is there)", async () => {
    const { calls, fetchImpl } = scripted({ "": tokenOk });
    const { client: c } = await client(fetchImpl);
    for (const url of [
      "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next",
      "http://moodle.test/memberships",
      "file:///etc/passwd",
    ]) {
      const error = await new NrpsClient(c).members(platform, url).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PlatformServiceError);
      expect((error as PlatformServiceError).retryable).toBe(false);
    }
    // Nothing was sent anywhere, not even the token request.
    expect(calls).toEqual([]);
  });

  it("calls loopback over http when the tool runs locally", async () => {
    const { calls, fetchImpl } = scripted({
      "http://127.0.0.1:8080/token": tokenOk,
      "http://127.0.0.1:8080/memberships": () => Response.json({ members: [] }),
    });
    const { client: c } = await client(fetchImpl);
    const local = { ...platform, tokenUrl: "http://127.0.0.1:8080/token" };
    allowLoopbackEndpoints();
    try {
      await expect(new NrpsClient(c).members(local, "http://127.0.0.1:8080/memberships")).resolves.toEqual(
        [],
      );
    } finally {
      allowLoopbackEndpoints(false);
    }
    expect(calls.map((k) => k.url)).toEqual([
      "http://127.0.0.1:8080/token",
      "http://127.0.0.1:8080/memberships",
    ]);
  });
});

describe("NRPS client", () => {
  it("stops the page it is waiting for when its caller stops waiting, not only the next one", async () => {
    let pageSignal: AbortSignal | undefined;
    const fetchImpl: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url === platform.tokenUrl) return tokenOk();
      pageSignal = init?.signal ?? undefined;
      return neverAnswers(input, init);
    };
    const { client: c } = await client(fetchImpl);
    const caller = new AbortController();
    const listing = new NrpsClient(c).members(platform, "https://moodle.test/memberships", {
      signal: caller.signal,
    });
    while (pageSignal === undefined) await new Promise((resolve) => setTimeout(resolve, 1));
    caller.abort(new Error("the tutor's page stopped waiting"));
    await expect(listing).rejects.toThrow();
    expect(pageSignal.aborted).toBe(true);
  });

  it("follows every Link rel=next page and maps short and long role names", async () => {
    const page1 = "https://moodle.test/memberships";
    const page2 = "https://moodle.test/memberships?page=2";
    const { calls, fetchImpl } = scripted({
      [platform.tokenUrl]: tokenOk,
      [page2]: () =>
        Response.json({
          members: [
            {
              user_id: "t1",
              name: "Tess Tutor",
              roles: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
            },
          ],
        }),
      [page1]: () =>
        Response.json(
          { members: [{ user_id: "c1", given_name: "Cara", family_name: "Candidate", roles: ["Learner"] }] },
          { headers: { link: `<${page2}>; rel="next"` } },
        ),
    });
    const { client: c } = await client(fetchImpl);
    const members = await new NrpsClient(c).members(platform, page1);
    expect(members.map((m) => [m.userId, m.name, m.role])).toEqual([
      ["c1", "Cara Candidate", "candidate"],
      ["t1", "Tess Tutor", "tutor"],
    ]);
    const gets = calls.filter((k) => k.url.startsWith(page1));
    expect(
      gets.every((k) => k.headers.accept === "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"),
    ).toBe(true);
  });

  it("reads rel=next among several links", () => {
    expect(
      nextLink('<https://a.test/p1>; rel="first", <https://a.test/p3>; rel="next"', "https://a.test/"),
    ).toBe("https://a.test/p3");
    expect(nextLink('<https://a.test/p1>; rel="prev"', "https://a.test/")).toBeUndefined();
    // A comma inside the address is not a separator (RFC 8288 §3).
    expect(nextLink('<https://a.test/m?ids=1,2&p=2>; rel="next"', "https://a.test/")).toBe(
      "https://a.test/m?ids=1,2&p=2",
    );
    // A rel is a list of exact names.
    expect(nextLink('<https://a.test/x>; rel="next-archive"', "https://a.test/")).toBeUndefined();
    expect(nextLink("<https://a.test/x>; rel=nextpage", "https://a.test/")).toBeUndefined();
    expect(nextLink('<https://a.test/x>; rel="prev next"', "https://a.test/")).toBe("https://a.test/x");
    expect(nextLink('<https://a.test/y>; title="a, b"; rel=next', "https://a.test/")).toBe(
      "https://a.test/y",
    );
    expect(nextLink("<https://a.test/z>;REL=NEXT", "https://a.test/")).toBe("https://a.test/z");
    // A quoted value may hold an escaped quote (RFC 9110 quoted-string).
    expect(nextLink('<https://a.test/p2>; title="Page \\"2\\""; rel="next"', "https://a.test/")).toBe(
      "https://a.test/p2",
    );
  });

  it("never passes the first page of a class list for all of it when the next page is on another site", async () => {
    const page1 = "https://moodle.test/nrps/members";
    const { calls, fetchImpl } = scripted({
      [platform.tokenUrl]: tokenOk,
      [page1]: () =>
        Response.json(
          { id: page1, context: { id: "c" }, members: [{ user_id: "u1", roles: ["Learner"] }] },
          { headers: { link: '<https://lms-cdn.test/api/members?page=2>; rel="next"' } },
        ),
    });
    const { client: c } = await client(fetchImpl);
    const error = await new NrpsClient(c).members(platform, page1).catch((e) => e);
    expect(error).toBeInstanceOf(UnfollowablePageError);
    expect(calls.some((k) => k.url.startsWith("https://lms-cdn.test"))).toBe(false);
  });

  it("says a roster longer than the pages it reads is too long, never passing part of a class for all of it", async () => {
    const page1 = "https://moodle.test/nrps/members";
    let page = 0;
    const { fetchImpl } = scripted({
      [platform.tokenUrl]: tokenOk,
      [page1]: () => {
        page++;
        return Response.json(
          { id: page1, context: { id: "c" }, members: [{ user_id: `u${page}`, roles: ["Learner"] }] },
          { headers: { link: `<${page1}?p=${page + 1}>; rel="next"` } },
        );
      },
    });
    const { client: c } = await client(fetchImpl);
    const error = await new NrpsClient(c, 5).members(platform, page1).catch((e) => e);
    expect(error).toBeInstanceOf(TooManyPagesError);
    expect(page).toBe(5);
  });
});
