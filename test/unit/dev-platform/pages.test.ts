import { beforeAll, describe, expect, it } from "vitest";
import type { DevPlatform } from "../../../dev/platform/index.js";
import { CLIENT_ID, field, newPlatform, onlyForm, PLATFORM_URL, TOOL } from "./fixtures.js";

let platform: DevPlatform;
beforeAll(async () => {
  platform = await newPlatform();
});

async function get(path: string): Promise<{ status: number; html: string; url: string }> {
  const url = `${PLATFORM_URL}${path}`;
  const res = await platform.app.request(url);
  return { status: res.status, html: await res.text(), url };
}

describe("login initiation form (/mod/lti/launch.php)", () => {
  it("auto-POSTs Moodle's six fields to the tool's login initiation URL", async () => {
    const page = await get("/mod/lti/launch.php?course=2&user=candidate");
    expect(page.status).toBe(200);
    const form = onlyForm(page.html, page.url);
    expect(form.method).toBe("post");
    expect(form.action).toBe(TOOL.loginInitiationUrl);
    expect(form.fields.map(([name]) => name)).toEqual([
      "iss",
      "target_link_uri",
      "login_hint",
      "lti_message_hint",
      "client_id",
      "lti_deployment_id",
    ]);
    expect(field(form, "iss")).toBe(PLATFORM_URL);
    expect(field(form, "target_link_uri")).toBe(TOOL.targetLinkUri);
    expect(field(form, "login_hint")).toBe("4");
    expect(field(form, "client_id")).toBe(CLIENT_ID);
    expect(field(form, "lti_deployment_id")).toBe("1");
    expect(page.html).toContain("document.ltiInitiateLoginForm.submit()");
  });

  it("gives every launch a fresh, opaque lti_message_hint that names neither user nor course in clear", async () => {
    const a = onlyForm((await get("/mod/lti/launch.php?course=2&user=4")).html, PLATFORM_URL);
    const b = onlyForm((await get("/mod/lti/launch.php?course=2&user=4")).html, PLATFORM_URL);
    expect(field(a, "lti_message_hint")).not.toBe(field(b, "lti_message_hint"));
    expect(field(a, "lti_message_hint")).toMatch(/^[\w-]+\.[\w-]+$/);
  });

  it("accepts Moodle's id= for the activity and finds its course", async () => {
    const page = await get("/mod/lti/launch.php?id=2&user=tutor");
    expect(page.status).toBe(200);
    expect(field(onlyForm(page.html, page.url), "login_hint")).toBe("3");
  });

  it.each([
    ["/mod/lti/launch.php?course=2", 400],
    ["/mod/lti/launch.php?course=2&user=nobody", 404],
    ["/mod/lti/launch.php?course=99&user=candidate", 404],
    // Sam is not enrolled in the January cohort.
    ["/mod/lti/launch.php?course=3&user=candidate", 403],
  ])("refuses %s with %i and no form", async (path, status) => {
    const page = await get(path);
    expect(page.status).toBe(status);
    expect(page.html).not.toContain("<form");
  });

  it("lets a site administrator launch in a course without an enrolment", async () => {
    expect((await get("/mod/lti/launch.php?course=3&user=admin")).status).toBe(200);
  });
});

describe("home and course pages", () => {
  it("lists each course with launch buttons for candidate, tutor and the Welsh-speaking candidate", async () => {
    const page = await get("/");
    expect(page.status).toBe(200);
    expect(page.html).toContain("HLTA preparation: September 2025 cohort");
    expect(page.html).toContain("Launch as candidate");
    expect(page.html).toContain("Launch as tutor");
    expect(page.html).toContain("Launch as Welsh-speaking candidate");
    expect(page.html).toContain("open in new window");
  });

  it("embeds the launch in an iframe on the course page, as Moodle does", async () => {
    const page = await get("/course/view.php?id=2&user=candidate");
    expect(page.status).toBe(200);
    const src = /<iframe[^>]*\ssrc="([^"]+)"/.exec(page.html)?.[1]?.replaceAll("&amp;", "&");
    expect(src).toBeDefined();
    const url = new URL(src ?? "");
    expect(url.origin + url.pathname).toBe(`${PLATFORM_URL}/mod/lti/launch.php`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      course: "2",
      link: "1",
      user: "4",
      target: "iframe",
    });
    const framed = await get(url.pathname + url.search);
    expect(onlyForm(framed.html, framed.url).action).toBe(TOOL.loginInitiationUrl);
  });

  it("answers unknown pages with 404", async () => {
    expect((await get("/nowhere")).status).toBe(404);
  });
});

describe("registration and endpoints", () => {
  it("registration() is what a tool administrator types in, Moodle-shaped", () => {
    expect(platform.registration()).toEqual({
      issuer: "http://localhost:8790",
      clientId: CLIENT_ID,
      authUrl: "http://localhost:8790/mod/lti/auth.php",
      tokenUrl: "http://localhost:8790/mod/lti/token.php",
      jwksUrl: "http://localhost:8790/mod/lti/certs.php",
      deploymentIds: ["1"],
      name: "HLTA Development Moodle",
    });
  });

  it("drops a trailing slash from the base URL for the issuer", async () => {
    const p = await newPlatform({ baseUrl: "http://localhost:8790/" });
    expect(p.registration().issuer).toBe("http://localhost:8790");
  });

  it("serves a site that lives under a path, like https://school.test/moodle", async () => {
    const p = await newPlatform({ baseUrl: "http://localhost:8790/moodle" });
    expect(p.registration()).toMatchObject({
      issuer: "http://localhost:8790/moodle",
      authUrl: "http://localhost:8790/moodle/mod/lti/auth.php",
    });
    const res = await p.app.request("http://localhost:8790/moodle/mod/lti/launch.php?course=2&user=4");
    expect(field(onlyForm(await res.text(), PLATFORM_URL), "iss")).toBe("http://localhost:8790/moodle");
    expect((await p.app.request("http://localhost:8790/moodle/")).status).toBe(200);
  });

  it("generates a 15-character client_id when none is given", async () => {
    const p = await newPlatform({ clientId: undefined });
    expect(p.registration().clientId).toMatch(/^[A-Za-z0-9]{15}$/);
  });

  it("answers an empty POST to the token endpoint with an RFC 6749 error in JSON", async () => {
    const res = await platform.app.request(`${PLATFORM_URL}/mod/lti/token.php`, { method: "POST" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_request" });
  });
});
