import type { JWTPayload } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import {
  CLAIM,
  type DevPlatform,
  LaunchFlowError,
  launch,
  ROLE,
  SCOPE,
  submitForm,
} from "../../../dev/platform/index.js";
import {
  CLIENT_ID,
  deepLinkingResponse,
  fakeTool,
  field,
  launchClaims,
  newPlatform,
  onlyForm,
  PLATFORM_URL,
  routedFetch,
  TOOL,
  TOOL_URL,
  toolKey,
  toolSign,
} from "./fixtures.js";

let platform: DevPlatform;
beforeEach(async () => {
  platform = await newPlatform();
});

const deepLinkingRequest = (user = "tutor") =>
  launchClaims(platform, { course: "2", user, message: "deep-linking" });

const settingsOf = (claims: JWTPayload) =>
  claims[CLAIM.deepLinkingSettings] as { deep_link_return_url: string; data: string };

async function postReturn(returnUrl: string, jwt: string | undefined) {
  const body = new URLSearchParams(jwt === undefined ? {} : { JWT: jwt });
  const res = await platform.app.request(returnUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: body.toString(),
  });
  return { status: res.status, html: await res.text() };
}

const moduleItem = {
  type: "ltiResourceLink",
  title: "Module 1: the role of the HLTA",
  text: "Read and reflect",
  url: `${TOOL_URL}/activities/module-1`,
  custom: { activity: "module-1" },
  lineItem: { scoreMaximum: 100, label: "Module 1", resourceId: "module-1", tag: "module" },
};

describe("starting a deep-linking request", () => {
  it("POSTs the login initiation from contentitem.php to the tool, with the deep-linking URL", async () => {
    const res = await platform.app.request(`${PLATFORM_URL}/mod/lti/contentitem.php?course=2&user=tutor`);
    expect(res.status).toBe(200);
    const form = onlyForm(await res.text(), PLATFORM_URL);
    expect(form.action).toBe(TOOL.loginInitiationUrl);
    expect(field(form, "target_link_uri")).toBe(TOOL.targetLinkUri);
    expect(field(form, "login_hint")).toBe("3");
    expect(field(form, "client_id")).toBe(CLIENT_ID);
    expect(field(form, "lti_deployment_id")).toBe("1");
  });

  it("goes to the tool's own deep-linking URL when it has one", async () => {
    platform = await newPlatform({ tool: { ...TOOL, deepLinkingUrl: `${TOOL_URL}/lti/select` } });
    const login = platform.loginInitiation({ course: "2", user: "tutor", message: "deep-linking" });
    expect(login.fields).toContainEqual({ name: "target_link_uri", value: `${TOOL_URL}/lti/select` });
  });

  it.each([
    ["/mod/lti/contentitem.php?course=2&user=candidate", 403],
    ["/mod/lti/contentitem.php?course=2&user=tutor&id=9", 404],
    ["/mod/lti/contentitem.php?user=tutor", 400],
  ])("refuses %s with %i", async (path, status) => {
    expect((await platform.app.request(`${PLATFORM_URL}${path}`)).status).toBe(status);
  });

  it("refuses a tool that takes no deep-linking requests", async () => {
    platform = await newPlatform({ tool: { ...TOOL, deepLinkingUrl: false } });
    expect(() => platform.loginInitiation({ course: "2", user: "tutor", message: "deep-linking" })).toThrow(
      /does not take deep-linking/,
    );
  });

  it("offers tutors 'Add an activity' on the course page, framing the request", async () => {
    const course = await (await platform.app.request(`${PLATFORM_URL}/course/view.php?id=2`)).text();
    expect(course).toContain("Add an activity with HLTA preparation as tutor");
    expect(course).not.toContain("Add an activity with HLTA preparation as candidate");
    const host = await platform.app.request(
      `${PLATFORM_URL}/course/modedit.php?add=lti&course=2&typeid=1&user=3`,
    );
    const src = /<iframe[^>]*id="contentframe"[^>]*src="([^"]+)"/.exec(await host.text())?.[1];
    expect(src?.replaceAll("&amp;", "&")).toBe(
      `${PLATFORM_URL}/mod/lti/contentitem.php?id=1&course=2&user=3&target=iframe`,
    );
  });
});

describe("the LtiDeepLinkingRequest id_token", () => {
  it("has the deep_linking_settings and no resource_link", async () => {
    const claims = await deepLinkingRequest();
    expect(claims[CLAIM.messageType]).toBe("LtiDeepLinkingRequest");
    expect(claims[CLAIM.version]).toBe("1.3.0");
    expect(claims[CLAIM.resourceLink]).toBeUndefined();
    expect(claims[CLAIM.targetLinkUri]).toBe(TOOL.targetLinkUri);
    expect(claims[CLAIM.roles]).toEqual([ROLE.instructor]);
    const settings = settingsOf(claims);
    expect(settings).toEqual({
      deep_link_return_url: expect.stringMatching(
        /^http:\/\/localhost:8790\/mod\/lti\/contentitem_return\.php\?course=2&id=1&sesskey=[A-Za-z0-9]{10}$/,
      ),
      accept_types: ["ltiResourceLink"],
      accept_presentation_document_targets: ["frame", "iframe", "window"],
      accept_multiple: true,
      auto_create: false,
      data: expect.any(String),
    });
    expect(claims[CLAIM.agsEndpoint]).toEqual({
      scope: [SCOPE.lineItem, SCOPE.lineItemReadOnly, SCOPE.resultReadOnly, SCOPE.score],
      lineitems: `${PLATFORM_URL}/mod/lti/services.php/2/lineitems?type_id=1`,
    });
    expect(claims[CLAIM.nrpsService]).toBeDefined();
  });

  it("gives each request its own return URL and data", async () => {
    const a = settingsOf(await deepLinkingRequest());
    const b = settingsOf(await deepLinkingRequest());
    expect(a.deep_link_return_url).not.toBe(b.deep_link_return_url);
    expect(a.data).not.toBe(b.data);
  });
});

describe("the deep-linking response at contentitem_return.php", () => {
  it("places each content item as an activity, with its line item, and shows what was added", async () => {
    const request = await deepLinkingRequest();
    const jwt = await deepLinkingResponse(request, {
      [CLAIM.contentItems]: [moduleItem, { type: "ltiResourceLink", title: "Evidence file" }],
      [CLAIM.deepLinkingMsg]: "2 activities chosen",
    });
    const { status, html } = await postReturn(settingsOf(request).deep_link_return_url, jwt);
    expect(status).toBe(200);
    expect(html).toContain("Added 2 activities");
    expect(html).toContain("2 activities chosen");
    expect(html).toContain("graded out of 100 (Module 1)");

    const placed = platform.directory.links("2").slice(1);
    expect(placed).toEqual([
      {
        id: "3",
        courseId: "2",
        title: "Module 1: the role of the HLTA",
        description: "Read and reflect",
        targetLinkUri: `${TOOL_URL}/activities/module-1`,
        custom: { activity: "module-1" },
        tool: CLIENT_ID,
      },
      { id: "4", courseId: "2", title: "Evidence file", description: "", custom: {}, tool: CLIENT_ID },
    ]);
    expect(platform.lineItems("2")).toMatchObject([
      { label: "Module 1", scoreMaximum: 100, resourceId: "module-1", tag: "module", resourceLinkId: "3" },
    ]);
    const [record] = platform.deepLinkResponses();
    expect(record).toMatchObject({ ok: true, courseId: "2", tool: CLIENT_ID, jwt });
    expect(record?.header).toMatchObject({ alg: "RS256", kid: "tool-key-1" });
    expect(record?.claims).toMatchObject({
      iss: CLIENT_ID,
      aud: PLATFORM_URL,
      [CLAIM.deepLinkingData]: settingsOf(request).data,
      [CLAIM.contentItems]: [moduleItem, { type: "ltiResourceLink", title: "Evidence file" }],
    });
    expect(record?.links.map((l) => l.id)).toEqual(["3", "4"]);
  });

  it("launches a placed link with its own resource link, URL, custom parameters and line item", async () => {
    const request = await deepLinkingRequest();
    await postReturn(
      settingsOf(request).deep_link_return_url,
      await deepLinkingResponse(request, { [CLAIM.contentItems]: [moduleItem] }),
    );
    const login = platform.loginInitiation({ course: "2", user: "candidate", link: "3" });
    expect(login.fields).toContainEqual({
      name: "target_link_uri",
      value: `${TOOL_URL}/activities/module-1`,
    });
    const claims = await launchClaims(platform, { course: "2", user: "candidate", link: "3" });
    expect(claims[CLAIM.resourceLink]).toEqual({
      id: "3",
      title: "Module 1: the role of the HLTA",
      description: "Read and reflect",
    });
    expect(claims[CLAIM.targetLinkUri]).toBe(`${TOOL_URL}/activities/module-1`);
    expect(claims[CLAIM.custom]).toEqual({ activity: "module-1" });
    expect(claims[CLAIM.agsEndpoint]).toMatchObject({
      lineitem: `${PLATFORM_URL}/mod/lti/services.php/2/lineitems/1/lineitem?type_id=1`,
    });
  });

  it("accepts an empty selection", async () => {
    const request = await deepLinkingRequest();
    const { status, html } = await postReturn(
      settingsOf(request).deep_link_return_url,
      await deepLinkingResponse(request),
    );
    expect(status).toBe(200);
    expect(html).toContain("Nothing was added");
  });

  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, JWTPayload, string][] = [
    ["iss other than the client_id", { iss: "someone" }, "iss"],
    ["aud other than the issuer", { aud: "http://elsewhere.test" }, "aud"],
    ["no nonce", { nonce: undefined }, "nonce"],
    ["an expired JWT", { iat: now() - 900, exp: now() - 600 }, "exp"],
    ["the wrong message_type", { [CLAIM.messageType]: "LtiResourceLinkRequest" }, "LtiDeepLinkingResponse"],
    ["no version", { [CLAIM.version]: undefined }, "1.3.0"],
    ["another deployment_id", { [CLAIM.deploymentId]: "2" }, "deployment_id"],
    ["data not echoed", { [CLAIM.deepLinkingData]: undefined }, "echo"],
    ["data altered", { [CLAIM.deepLinkingData]: "dl-other" }, "echo"],
    ["content_items not an array", { [CLAIM.contentItems]: { type: "ltiResourceLink" } }, "array"],
    [
      "a content item of a type not accepted",
      { [CLAIM.contentItems]: [{ type: "link", url: TOOL_URL }] },
      "not accepted",
    ],
    [
      "a url that is not http(s)",
      { [CLAIM.contentItems]: [{ ...moduleItem, url: "javascript:alert(1)" }] },
      "url",
    ],
    [
      "a custom value that is not a string",
      { [CLAIM.contentItems]: [{ ...moduleItem, custom: { n: 1 } }] },
      "custom",
    ],
    [
      "a lineItem without scoreMaximum",
      { [CLAIM.contentItems]: [{ ...moduleItem, lineItem: { label: "x" } }] },
      "scoreMaximum",
    ],
  ];
  it.each(cases)("refuses %s (400), placing nothing", async (_name, overrides, mentions) => {
    const request = await deepLinkingRequest();
    const { status, html } = await postReturn(
      settingsOf(request).deep_link_return_url,
      await deepLinkingResponse(request, overrides),
    );
    expect(status).toBe(400);
    expect(html).toContain("refused");
    expect(html).toContain(mentions.replaceAll("&", "&amp;").replaceAll('"', "&quot;"));
    expect(platform.directory.links("2")).toHaveLength(1);
    expect(platform.deepLinkResponses()).toMatchObject([{ ok: false }]);
  });

  it("refuses a JWT without kid, signed with another key, or not RS256", async () => {
    const request = await deepLinkingRequest();
    const url = settingsOf(request).deep_link_return_url;
    expect(
      (await postReturn(url, await deepLinkingResponse(request, {}, { kid: undefined }))).html,
    ).toContain("kid");
    const stranger = await toolKey("stranger");
    const payload = { iss: CLIENT_ID, aud: PLATFORM_URL, iat: now(), exp: now() + 60, nonce: "n" };
    const forged = await toolSign(payload, { kid: "tool-key-1" }, stranger);
    expect((await postReturn(url, forged)).html).toContain("signature");
    const hs = [
      Buffer.from(JSON.stringify({ alg: "HS256", kid: "tool-key-1" })).toString("base64url"),
      Buffer.from(JSON.stringify(payload)).toString("base64url"),
      "c2ln",
    ].join(".");
    expect((await postReturn(url, hs)).html).toContain("RS256");
    expect(platform.directory.links("2")).toHaveLength(1);
  });

  it("refuses a return with no JWT, or to an unknown or used return URL", async () => {
    const request = await deepLinkingRequest();
    const url = settingsOf(request).deep_link_return_url;
    expect((await postReturn(url, undefined)).status).toBe(400);
    const forged = url.replace(/sesskey=\w+/, "sesskey=abcdefghij");
    expect((await postReturn(forged, await deepLinkingResponse(request))).html).toContain("not expected");
    const otherCourse = url.replace("course=2", "course=3");
    expect((await postReturn(otherCourse, await deepLinkingResponse(request))).status).toBe(400);
    expect((await postReturn(url, await deepLinkingResponse(request))).status).toBe(200);
    expect((await postReturn(url, await deepLinkingResponse(request))).html).toContain("not expected");
  });

  it("refuses a replayed response nonce, even for a fresh request", async () => {
    const first = await deepLinkingRequest();
    await postReturn(
      settingsOf(first).deep_link_return_url,
      await deepLinkingResponse(first, { nonce: "n-1" }),
    );
    const second = await deepLinkingRequest();
    const replay = await postReturn(
      settingsOf(second).deep_link_return_url,
      await deepLinkingResponse(second, { nonce: "n-1" }),
    );
    expect(replay.status).toBe(400);
    expect(replay.html).toContain("nonce was already used");
  });
});

describe("deep linking through the launch driver", () => {
  it("returns the tool's selection page, then carries the choice back to the platform", async () => {
    const fetchImpl = routedFetch(platform, fakeTool(platform));
    const selection = await launch({
      platformUrl: PLATFORM_URL,
      course: "2",
      user: "tutor",
      message: "deep-linking",
      fetchImpl,
      capture: true,
    });
    expect(selection.status).toBe(200);
    expect(selection.html).toContain("Choose an activity, Priya Shah");
    expect(new URL(selection.exchanges[0]?.request.url ?? "").pathname).toBe("/mod/lti/contentitem.php");

    const response = await submitForm(selection, { fields: { activity: "module-2" }, fetchImpl });
    expect(response.url).toBe(`${TOOL_URL}/lti/deep-link`);
    const done = await submitForm(response, { fetchImpl });
    expect(done.status).toBe(200);
    expect(done.url).toMatch(/^http:\/\/localhost:8790\/mod\/lti\/contentitem_return\.php\?/);
    expect(done.html).toContain("Added 1 activity");
    expect(platform.deepLinkResponses()[0]?.claims?.[CLAIM.contentItems]).toEqual([
      {
        type: "ltiResourceLink",
        title: "Module 2",
        url: `${TOOL_URL}/activities/module-2`,
        custom: { activity: "module-2" },
        lineItem: { scoreMaximum: 100, label: "module-2", resourceId: "module-2", tag: "module" },
      },
    ]);

    const placed = await launch({
      platformUrl: PLATFORM_URL,
      course: "2",
      user: "candidate",
      link: "3",
      fetchImpl,
    });
    expect(placed.status).toBe(200);
    expect(placed.url).toBe(TOOL.redirectUris[0]);
  });

  it("stops at start when a candidate tries to add an activity", async () => {
    const fetchImpl = routedFetch(platform, fakeTool(platform));
    const error = await launch({
      platformUrl: PLATFORM_URL,
      course: "2",
      user: "candidate",
      message: "deep-linking",
      fetchImpl,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LaunchFlowError);
    expect(error).toMatchObject({ step: "start", status: 403 });
  });
});
