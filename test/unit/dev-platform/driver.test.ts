import { beforeAll, describe, expect, it } from "vitest";
import { type DevPlatform, LaunchFlowError, launch } from "../../../dev/platform/index.js";
import { fakeTool, newPlatform, PLATFORM_URL, routedFetch, TOOL, TOOL_URL } from "./fixtures.js";

let platform: DevPlatform;
beforeAll(async () => {
  platform = await newPlatform();
});

const base = () => ({
  platformUrl: PLATFORM_URL,
  course: "2",
  user: "candidate",
  fetchImpl: routedFetch(platform, fakeTool(platform)),
});

describe("launch driver (over a routed fetch: the tool's and platform's real HTTP handlers, no sockets)", () => {
  it("performs login → auth → launch and returns the tool's final response", async () => {
    const result = await launch({ ...base(), capture: true });
    expect(result.status).toBe(200);
    expect(result.html).toContain("Welcome Sam Taylor");
    expect(result.url).toBe(TOOL.redirectUris[0]);
    expect(result.cookies.map((c) => c.name)).toEqual(["lti_state"]);
    for (const step of ["login", "auth", "launch"] as const) expect(result.timings[step]).toBeGreaterThan(0);

    const steps = result.exchanges.map((e) => [e.step, e.request.method, new URL(e.request.url).pathname]);
    expect(steps).toEqual([
      ["start", "GET", "/mod/lti/launch.php"],
      ["login", "POST", "/lti/login"],
      ["auth", "GET", "/mod/lti/auth.php"],
      ["launch", "POST", "/lti/launch"],
    ]);
    const login = result.exchanges[1];
    expect(login?.response.status).toBe(302);
    expect(login?.request.headers["sec-fetch-site"]).toBe("cross-site");
    expect(login?.request.headers.origin).toBe(PLATFORM_URL);
    expect(new URLSearchParams(login?.request.body).get("iss")).toBe(PLATFORM_URL);
    expect(result.exchanges[3]?.request.headers.cookie).toMatch(/^lti_state=/);
  });

  it("sends the tool's partitioned cookie back inside the LMS iframe when only partitioned cookies are allowed", async () => {
    const result = await launch({ ...base(), thirdPartyCookies: "partitioned-only" });
    expect(result.status).toBe(200);
  });

  it("loses the state cookie in the iframe when the browser blocks third-party cookies", async () => {
    const result = await launch({ ...base(), thirdPartyCookies: "block" });
    expect(result.status).toBe(401);
  });

  it("keeps first-party cookies when the tool opens in a new window", async () => {
    const result = await launch({ ...base(), thirdPartyCookies: "block", presentation: "window" });
    expect(result.status).toBe(200);
  });

  it("loses a SameSite=Lax state cookie on the cross-site id_token POST", async () => {
    const tool = fakeTool(platform, {
      cookieAttributes: { sameSite: "Lax", secure: false, partitioned: false },
    });
    const result = await launch({
      ...base(),
      presentation: "window",
      fetchImpl: routedFetch(platform, tool),
    });
    expect(result.status).toBe(401);
  });

  it("drops cookies before the chosen steps", async () => {
    expect((await launch({ ...base(), dropCookies: ["launch"] })).status).toBe(401);
    expect((await launch({ ...base(), dropCookies: ["auth"] })).status).toBe(401);
    expect((await launch({ ...base(), dropCookies: ["login"] })).status).toBe(200);
  });

  it("follows the tool's redirect after the launch to its first page only when asked", async () => {
    const redirecting = await newPlatform({
      tool: { ...TOOL, redirectUris: [`${TOOL_URL}/lti/launch-redirect`] },
    });
    const tool = fakeTool(redirecting);
    tool.post("/lti/launch-redirect", (c) => c.redirect("/app?ltik=abc", 302));
    tool.get("/app", (c) => c.html(`<h1>First page ${c.req.query("ltik")}</h1>`));
    const fetchImpl = routedFetch(redirecting, tool);
    const plain = await launch({ ...base(), fetchImpl });
    expect(plain.status).toBe(302);
    const followed = await launch({ ...base(), fetchImpl, followLaunchRedirects: true, capture: true });
    expect(followed.status).toBe(200);
    expect(followed.url).toBe(`${TOOL_URL}/app?ltik=abc`);
    expect(followed.html).toContain("First page abc");
    expect(followed.exchanges.at(-1)?.step).toBe("page");
    expect(followed.timings.page).toBeGreaterThan(0);
  });

  it("launches the tutor with a reused jar", async () => {
    const first = await launch({ ...base(), user: "tutor" });
    const second = await launch({ ...base(), user: "tutor", jar: first.jar });
    expect(second.status).toBe(200);
    expect(second.html).toContain("Priya Shah");
  });

  it("stops with a LaunchFlowError when the tool's login answers with neither a redirect nor a form", async () => {
    const wrongIssuer = await newPlatform({ baseUrl: "http://localhost:8790/other" });
    const fetchImpl = routedFetch(wrongIssuer, fakeTool(platform));
    const error = await launch({ ...base(), platformUrl: wrongIssuer.baseUrl, fetchImpl }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LaunchFlowError);
    expect(error).toMatchObject({ step: "login", status: 400 });
  });

  it("stops at start when the platform refuses the launch", async () => {
    await expect(launch({ ...base(), course: "3", user: "candidate" })).rejects.toMatchObject({
      step: "start",
      status: 403,
    });
  });
});
