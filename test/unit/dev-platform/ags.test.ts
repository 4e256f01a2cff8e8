import { beforeEach, describe, expect, it } from "vitest";
import { CLAIM, type DevPlatform, MEDIA_TYPE, SCOPE } from "../../../dev/platform/index.js";
import { accessToken, launchClaims, newPlatform, PLATFORM_URL, TOOL } from "./fixtures.js";

const LINEITEMS = `${PLATFORM_URL}/mod/lti/services.php/2/lineitems?type_id=1`;

let platform: DevPlatform;
let token: string;
beforeEach(async () => {
  platform = await newPlatform();
  token = await accessToken(platform, [SCOPE.lineItem, SCOPE.score, SCOPE.resultReadOnly]);
});

async function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; bearer?: string | null } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  const bearer = init.bearer === undefined ? token : init.bearer;
  if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
  const res = await platform.app.request(url, {
    method: init.method ?? "GET",
    headers,
    ...(init.body !== undefined
      ? { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) }
      : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: text ? (JSON.parse(text) as unknown) : undefined,
  };
}

async function createLineItem(item: Record<string, unknown>) {
  const res = await call(LINEITEMS, {
    method: "POST",
    headers: { "content-type": MEDIA_TYPE.lineItem },
    body: item,
  });
  expect(res.status).toBe(201);
  return res.json as { id: string } & Record<string, unknown>;
}

/** `{lineitem}/scores` with /scores in the path, before the query (as a correct tool does). */
function scoresUrl(lineItemUrl: string): string {
  const url = new URL(lineItemUrl);
  url.pathname += "/scores";
  return url.toString();
}

const score = (overrides: Record<string, unknown> = {}) => ({
  userId: "4",
  scoreGiven: 7,
  scoreMaximum: 10,
  activityProgress: "Completed",
  gradingProgress: "FullyGraded",
  timestamp: "2025-09-01T10:00:00.000Z",
  ...overrides,
});

async function postScore(lineItemUrl: string, body: unknown, contentType: string = MEDIA_TYPE.score) {
  return call(scoresUrl(lineItemUrl), { method: "POST", headers: { "content-type": contentType }, body });
}

describe("the AGS claim in launches", () => {
  it("carries the granted AGS scopes and the course's line items URL; a link without a line item has no lineitem", async () => {
    const claims = await launchClaims(platform, { course: "2", user: "candidate" });
    expect(claims[CLAIM.agsEndpoint]).toEqual({
      scope: [SCOPE.lineItem, SCOPE.lineItemReadOnly, SCOPE.resultReadOnly, SCOPE.score],
      lineitems: LINEITEMS,
    });
  });

  it("carries the link's own line item URL when it has exactly one", async () => {
    const link = platform.addLink({ course: "2", title: "Graded task", lineItem: { scoreMaximum: 20 } });
    const claims = await launchClaims(platform, { course: "2", user: "candidate", link: link.id });
    const item = platform.lineItems("2")[0];
    expect(claims[CLAIM.agsEndpoint]).toMatchObject({ lineitem: item?.url });
    expect(item?.url).toBe(`${PLATFORM_URL}/mod/lti/services.php/2/lineitems/1/lineitem?type_id=1`);
  });

  it("is absent for a tool granted no AGS scope", async () => {
    platform = await newPlatform({ tool: { ...TOOL, scopes: [SCOPE.memberships] } });
    const claims = await launchClaims(platform, { course: "2", user: "candidate" });
    expect(claims[CLAIM.agsEndpoint]).toBeUndefined();
  });
});

describe("line items", () => {
  it("lists none at first, as a line item container", async () => {
    const res = await call(LINEITEMS, { headers: { accept: MEDIA_TYPE.lineItemContainer } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(MEDIA_TYPE.lineItemContainer);
    expect(res.json).toEqual([]);
  });

  it("creates one (201) with its Moodle-shaped URL ending in ?type_id", async () => {
    const res = await call(LINEITEMS, {
      method: "POST",
      headers: { "content-type": MEDIA_TYPE.lineItem, accept: MEDIA_TYPE.lineItem },
      body: {
        label: "Module 1",
        scoreMaximum: 100,
        resourceId: "module-1",
        tag: "module",
        resourceLinkId: "1",
      },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toBe(MEDIA_TYPE.lineItem);
    const url = `${PLATFORM_URL}/mod/lti/services.php/2/lineitems/1/lineitem?type_id=1`;
    expect(res.headers.get("location")).toBe(url);
    expect(res.json).toEqual({
      id: url,
      label: "Module 1",
      scoreMaximum: 100,
      resourceId: "module-1",
      tag: "module",
      resourceLinkId: "1",
    });
    expect(platform.lineItems()).toMatchObject([{ id: "1", courseId: "2", tool: "dev-client-0001", url }]);
  });

  it("filters by resource_id, resource_link_id and tag", async () => {
    await createLineItem({ label: "A", scoreMaximum: 10, resourceId: "a", tag: "x", resourceLinkId: "1" });
    await createLineItem({ label: "B", scoreMaximum: 10, resourceId: "b", tag: "x" });
    await createLineItem({ label: "C", scoreMaximum: 10, resourceId: "c", tag: "y" });
    const labels = async (query: string) =>
      ((await call(`${LINEITEMS}&${query}`)).json as { label: string }[]).map((i) => i.label);
    expect(await labels("resource_id=b")).toEqual(["B"]);
    expect(await labels("resource_link_id=1")).toEqual(["A"]);
    expect(await labels("tag=x")).toEqual(["A", "B"]);
    expect(await labels("tag=x&resource_id=c")).toEqual([]);
  });

  it("pages with limit and from, and Link: rel=next", async () => {
    for (const label of ["A", "B", "C", "D", "E"]) await createLineItem({ label, scoreMaximum: 1 });
    const seen: string[] = [];
    let url: string | undefined = `${LINEITEMS}&limit=2`;
    for (let page = 0; url && page < 10; page++) {
      const res = await call(url);
      seen.push(...(res.json as { label: string }[]).map((i) => i.label));
      url = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get("link") ?? "")?.[1];
    }
    expect(seen).toEqual(["A", "B", "C", "D", "E"]);
    const first = await call(`${LINEITEMS}&limit=2`);
    expect(first.headers.get("link")).toBe(
      [
        `<${LINEITEMS}&limit=2&from=0>; rel="first"`,
        `<${LINEITEMS}&limit=2&from=2>; rel="next"`,
        `<${LINEITEMS}&limit=2&from=4>; rel="last"`,
      ].join(", "),
    );
    expect((await call(`${LINEITEMS}&limit=0`)).status).toBe(400);
  });

  it("reads, updates and deletes a line item", async () => {
    const created = await createLineItem({ label: "Module 1", scoreMaximum: 100, resourceId: "m1" });
    const read = await call(created.id, { headers: { accept: MEDIA_TYPE.lineItem } });
    expect(read.status).toBe(200);
    expect(read.headers.get("content-type")).toBe(MEDIA_TYPE.lineItem);
    expect(read.json).toEqual(created);

    const put = await call(created.id, {
      method: "PUT",
      headers: { "content-type": MEDIA_TYPE.lineItem },
      body: { ...created, label: "Module one", scoreMaximum: 50 },
    });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ label: "Module one", scoreMaximum: 50, resourceId: "m1" });

    expect((await call(created.id, { method: "DELETE" })).status).toBe(204);
    expect((await call(created.id)).status).toBe(404);
  });

  it.each([
    ["no label", { scoreMaximum: 10 }],
    ["scoreMaximum 0", { label: "x", scoreMaximum: 0 }],
    ["scoreMaximum as a string", { label: "x", scoreMaximum: "10" }],
    ["a resourceLinkId of another course", { label: "x", scoreMaximum: 10, resourceLinkId: "2" }],
    ["a bad date", { label: "x", scoreMaximum: 10, endDateTime: "tomorrow" }],
  ])("refuses a line item with %s (400)", async (_name, body) => {
    const res = await call(LINEITEMS, {
      method: "POST",
      headers: { "content-type": MEDIA_TYPE.lineItem },
      body,
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: "invalid_request" });
  });

  it("refuses a line item posted as application/json (415)", async () => {
    const res = await call(LINEITEMS, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: { label: "x", scoreMaximum: 1 },
    });
    expect(res.status).toBe(415);
  });

  it("needs the lineitem scope to write, and lineitem.readonly to read", async () => {
    const readOnly = await accessToken(platform, [SCOPE.lineItemReadOnly]);
    expect((await call(LINEITEMS, { bearer: readOnly })).status).toBe(200);
    const write = await call(LINEITEMS, {
      method: "POST",
      bearer: readOnly,
      headers: { "content-type": MEDIA_TYPE.lineItem },
      body: { label: "x", scoreMaximum: 1 },
    });
    expect(write.status).toBe(403);
    expect(write.json).toMatchObject({ error: "insufficient_scope" });
    expect(write.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    const scoreOnly = await accessToken(platform, [SCOPE.score]);
    expect((await call(LINEITEMS, { bearer: scoreOnly })).status).toBe(403);
    expect((await call(LINEITEMS, { bearer: null })).status).toBe(401);
  });

  it("checks type_id and the course", async () => {
    expect((await call(`${PLATFORM_URL}/mod/lti/services.php/2/lineitems`)).status).toBe(400);
    expect((await call(`${PLATFORM_URL}/mod/lti/services.php/2/lineitems?type_id=7`)).status).toBe(404);
    expect((await call(`${PLATFORM_URL}/mod/lti/services.php/99/lineitems?type_id=1`)).status).toBe(404);
    expect((await call(`${PLATFORM_URL}/mod/lti/services.php/HLTA-SEP25/lineitems?type_id=1`)).status).toBe(
      404,
    );
  });
});

describe("scores", () => {
  let item: { id: string };
  beforeEach(async () => {
    item = await createLineItem({ label: "Module 1", scoreMaximum: 50, resourceId: "m1" });
  });

  it("takes a score POSTed to {lineitem}/scores (path before the query), rescaled into the gradebook", async () => {
    const body = JSON.stringify(score());
    const res = await postScore(item.id, body);
    expect(res.status).toBe(200);
    expect(platform.gradebook("2")).toEqual([
      {
        lineItemId: "1",
        userId: "4",
        scoreGiven: 7,
        scoreMaximum: 10,
        grade: 35,
        activityProgress: "Completed",
        gradingProgress: "FullyGraded",
        timestamp: "2025-09-01T10:00:00.000Z",
        comment: undefined,
      },
    ]);
    expect(platform.scores()).toEqual([
      expect.objectContaining({
        url: `${PLATFORM_URL}/mod/lti/services.php/2/lineitems/1/lineitem/scores?type_id=1`,
        courseId: "2",
        lineItemId: "1",
        tool: "dev-client-0001",
        contentType: MEDIA_TYPE.score,
        body,
        json: score(),
        status: 200,
        applied: true,
      }),
    ]);
  });

  it("answers 404 to a tool that appended /scores after the query string", async () => {
    const wrong = `${item.id}/scores`;
    expect(wrong).toMatch(/\?type_id=1\/scores$/);
    const res = await call(wrong, {
      method: "POST",
      headers: { "content-type": MEDIA_TYPE.score },
      body: score(),
    });
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.json)).toContain("before the query string");
    expect(platform.gradebook()).toEqual([]);
  });

  it("refuses a score that is not application/vnd.ims.lis.v1.score+json (415), and records it", async () => {
    const res = await postScore(item.id, score(), "application/json");
    expect(res.status).toBe(415);
    expect(platform.scores()).toMatchObject([
      { contentType: "application/json", status: 415, applied: false },
    ]);
  });

  it("accepts the media type with parameters", async () => {
    expect((await postScore(item.id, score(), `${MEDIA_TYPE.score}; charset=utf-8`)).status).toBe(200);
  });

  it.each([
    ["scoreGiven above scoreMaximum", { scoreGiven: 11 }, "scoreGiven"],
    ["scoreGiven without scoreMaximum", { scoreMaximum: undefined }, "scoreMaximum"],
    ["scoreGiven as a string", { scoreGiven: "7" }, "scoreGiven"],
    ["a negative scoreGiven", { scoreGiven: -1 }, "scoreGiven"],
    ["scoreMaximum 0", { scoreMaximum: 0, scoreGiven: 0 }, "scoreMaximum"],
    ["an unknown activityProgress", { activityProgress: "Done" }, "activityProgress"],
    ["an unknown gradingProgress", { gradingProgress: "Graded" }, "gradingProgress"],
    ["no timestamp", { timestamp: undefined }, "timestamp"],
    ["a timestamp that is not ISO 8601", { timestamp: "1 Sept 2025" }, "timestamp"],
    ["a timestamp without a time zone", { timestamp: "2025-09-01T10:00:00" }, "timestamp"],
    ["no userId", { userId: undefined }, "userId"],
    ["snake_case fields", { userId: undefined, user_id: "4" }, "userId"],
    ["a user not in the course", { userId: "2" }, "not in course"],
  ])("refuses %s (400)", async (_name, overrides, mentions) => {
    const res = await postScore(item.id, score(overrides));
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).toContain(mentions);
    expect(platform.gradebook()).toEqual([]);
  });

  it("refuses a body that is not JSON", async () => {
    expect((await postScore(item.id, "{")).status).toBe(400);
  });

  it("refuses a score no newer than the last one (409), as Moodle does", async () => {
    expect((await postScore(item.id, score())).status).toBe(200);
    expect((await postScore(item.id, score({ scoreGiven: 9 }))).status).toBe(409);
    expect(
      (await postScore(item.id, score({ scoreGiven: 9, timestamp: "2025-09-01T09:00:00Z" }))).status,
    ).toBe(409);
    expect(
      (await postScore(item.id, score({ scoreGiven: 9, timestamp: "2025-09-01T11:00:00+01:00" }))).status,
    ).toBe(409);
    expect(
      (await postScore(item.id, score({ scoreGiven: 9, timestamp: "2025-09-01T10:00:01Z" }))).status,
    ).toBe(200);
    expect(platform.gradebook()[0]).toMatchObject({ scoreGiven: 9, grade: 45 });
  });

  it("keeps progress without a grade unless FullyGraded", async () => {
    await postScore(item.id, score({ gradingProgress: "Pending", activityProgress: "Submitted" }));
    expect(platform.gradebook()[0]).toMatchObject({ grade: null, activityProgress: "Submitted" });
    await postScore(
      item.id,
      score({ scoreGiven: undefined, scoreMaximum: undefined, timestamp: "2025-09-02T00:00:00Z" }),
    );
    expect(platform.gradebook()[0]).toMatchObject({ grade: null, activityProgress: "Completed" });
  });

  it("needs the score scope, and a token for this tool type", async () => {
    const readOnly = await accessToken(platform, [SCOPE.lineItem]);
    const res = await call(scoresUrl(item.id), {
      method: "POST",
      bearer: readOnly,
      headers: { "content-type": MEDIA_TYPE.score },
      body: score(),
    });
    expect(res.status).toBe(403);
    expect((await call(scoresUrl(item.id), { method: "POST", bearer: null, body: score() })).status).toBe(
      401,
    );
    expect(platform.scores().map((s) => s.status)).toEqual([403, 401]);
  });

  it("answers 404 for a line item that does not exist", async () => {
    const res = await postScore(
      `${PLATFORM_URL}/mod/lti/services.php/2/lineitems/99/lineitem?type_id=1`,
      score(),
    );
    expect(res.status).toBe(404);
  });

  it("lists results with result.readonly", async () => {
    await postScore(item.id, score());
    const res = await call(`${item.id.replace("?", "/results?")}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(MEDIA_TYPE.resultContainer);
    expect(res.json).toEqual([
      {
        id: `${PLATFORM_URL}/mod/lti/services.php/2/lineitems/1/lineitem/results?type_id=1&user_id=4`,
        scoreOf: item.id,
        userId: "4",
        resultScore: 35,
        resultMaximum: 50,
        timestamp: "2025-09-01T10:00:00.000Z",
      },
    ]);
  });

  it("shows grades in the course page's gradebook", async () => {
    await postScore(item.id, score());
    const html = await (await platform.app.request(`${PLATFORM_URL}/course/view.php?id=2`)).text();
    expect(html).toContain("Module 1");
    expect(html).toContain("35 <small>(Completed, FullyGraded)</small>");
    const report = await platform.app.request(`${PLATFORM_URL}/grade/report/grader/index.php?id=2`);
    expect(await report.text()).toContain("Sam Taylor");
  });
});

describe("faults, for testing a tool's retries", () => {
  it("answers the next N service calls with 503 and Retry-After, then serves again", async () => {
    platform.faults.fail(2, { status: 503, retryAfterSeconds: 2 });
    const first = await call(LINEITEMS);
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).toBe("2");
    expect((await call(LINEITEMS)).status).toBe(503);
    expect((await call(LINEITEMS)).status).toBe(200);
    expect(platform.faults.injected()).toHaveLength(2);
    expect(platform.faults.pending).toBe(0);
  });

  it("can throttle with 429, and fault the token endpoint", async () => {
    platform.faults.fail(1, { status: 429, on: "token" });
    await expect(accessToken(platform, [SCOPE.score])).rejects.toThrow(/429/);
    expect(await accessToken(platform, [SCOPE.score])).toBeTruthy();
    platform.faults.fail(1, { status: 429, retryAfterSeconds: null });
    const throttled = await call(LINEITEMS);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBeNull();
  });

  it("logs every service call with headers and bodies", async () => {
    await call(LINEITEMS, { headers: { accept: MEDIA_TYPE.lineItemContainer } });
    const last = platform.serviceCalls().at(-1);
    expect(last).toMatchObject({
      method: "GET",
      url: LINEITEMS,
      status: 200,
      headers: { accept: MEDIA_TYPE.lineItemContainer, authorization: `Bearer ${token}` },
      responseBody: "[]",
    });
  });
});
