import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoEnrolmentStore } from "../../../adapters/dynamo/enrolments.js";
import { DynamoRegistrationStore } from "../../../adapters/dynamo/registrations.js";
import { LaunchFlowError, type LaunchResult, launch } from "../../../dev/platform/driver.js";
import { DEFAULT_SEED, type RunningDevPlatform } from "../../../dev/platform/index.js";
import type { CourseRole } from "../../../dev/platform/seed.js";
import type { RunningToolServer } from "../../../dev/tool-server.js";
import { registerPlatform } from "../../../lti-tool/registration.js";
import { type Stack, startPlatform, startStack } from "../../support/stack.js";

let stack: Stack;
let tool: RunningToolServer;
let platform: RunningDevPlatform;

const newPlatform = (deploymentId = "1", register = true) => startPlatform(stack, { deploymentId, register });

beforeAll(async () => {
  stack = await startStack();
  tool = stack.tool;
  platform = await newPlatform();
});
afterAll(async () => {
  await platform?.stop();
  await stack?.stop();
});

/** The launch's id_token POST again, from the same browser (its cookies), as a replay would be. */
async function postLaunchAgain(result: LaunchResult): Promise<Response> {
  const post = result.exchanges.find((e) => e.step === "launch");
  expect(post).toBeDefined();
  return fetch(post?.request.url ?? "", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: post?.request.headers.cookie ?? "",
    },
    body: post?.request.body ?? "",
    redirect: "manual",
  });
}

async function firstPage(location: string | null) {
  expect(location).toMatch(/^\/app\?s=/);
  const res = await fetch(new URL(location ?? "", tool.url));
  return { status: res.status, html: await res.text() };
}

describe("a launch from the development platform over real HTTP", () => {
  it("takes a candidate from the LMS to the standards page", async () => {
    const result = await launch({ platformUrl: platform.url, course: "2", user: "candidate" });
    expect(result.status).toBe(303);
    const page = await firstPage(result.headers.get("location"));
    expect(page.status).toBe(200);
    expect(page.html).toContain("Your HLTA preparation");
    expect(page.html.match(/data-status="not_started"/g)).toHaveLength(33);
  });

  it("keeps the Welsh locale of the launch in the session, and marks the page by the language it shows", async () => {
    const result = await launch({ platformUrl: platform.url, course: "2", user: "candidate-cy" });
    const location = result.headers.get("location");
    const token = new URL(location ?? "", tool.url).searchParams.get("s") ?? "";
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
    expect(claims.loc).toBe("cy");
    // Its words are English until the Welsh interface exists: a Welsh page would be misread aloud.
    const page = await firstPage(location);
    expect(page.html).toContain('<html lang="en-GB">');
  });

  it("shows a tutor the cohort with the candidates who launched", async () => {
    await launch({ platformUrl: platform.url, course: "2", user: "candidate" });
    const result = await launch({ platformUrl: platform.url, course: "2", user: "tutor" });
    const page = await firstPage(result.headers.get("location"));
    expect(page.html).toContain("Your HLTA cohort");
    expect(page.html).toMatch(/<td>[^<]+<\/td>/);
    expect(page.html).not.toContain("No candidates have opened the tool");
  });

  it("offers a new window when the frame refuses the cookie, and that window's launch succeeds", async () => {
    const blocked = await launch({
      platformUrl: platform.url,
      course: "2",
      user: "candidate",
      thirdPartyCookies: "block",
    }).catch((e) => e);
    expect(blocked).toBeInstanceOf(LaunchFlowError);
    const html: string = blocked.html;
    expect(html).toContain("Open in a new window");
    const href = html.match(/href="([^"]+)"[^>]*target="_blank"/)?.[1]?.replaceAll("&amp;", "&") ?? "";
    expect(href.startsWith(`${tool.url}/lti/login?`)).toBe(true);

    // The new window is top-level: the tool's cookie is first-party there.
    let res = await fetch(href, { redirect: "manual" });
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    res = await fetch(res.headers.get("location") ?? "", { redirect: "manual", headers: { cookie } });
    const auth = await fetch(res.headers.get("location") ?? "", { redirect: "manual" });
    const form = await auth.text();
    const field = (name: string) => form.match(new RegExp(`name="${name}" value="([^"]+)"`))?.[1] ?? "";
    const final = await fetch(`${tool.url}/lti/launch`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
      body: new URLSearchParams({ id_token: field("id_token"), state: field("state") }),
    });
    expect(final.status).toBe(303);
  });

  it("refuses a launch whose browser lost the cookie after the check", async () => {
    const result = await launch({
      platformUrl: platform.url,
      course: "2",
      user: "candidate",
      dropCookies: ["launch"],
    });
    expect(result.status).toBe(401);
  });

  it("refuses the same id_token posted twice", async () => {
    const result = await launch({ platformUrl: platform.url, course: "2", user: "candidate", capture: true });
    expect(result.status).toBe(303);
    const replay = await postLaunchAgain(result);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain("already been used");
  });

  it("writes nothing for a refused replay: a newer launch's enrolment stays as it recorded it", async () => {
    // This platform's own copy of the seed, changed between launches as an LMS would be.
    const seed = structuredClone(DEFAULT_SEED);
    const lms = await startPlatform(stack, { seed });
    try {
      const enrolment = seed.enrolments.find((e) => e.courseId === "2" && e.userId === "4") as {
        role: CourseRole;
      };
      const user = seed.users.find((u) => u.id === "4") as { givenName: string };
      enrolment.role = "editingteacher";
      const first = await launch({ platformUrl: lms.url, course: "2", user: "candidate", capture: true });
      expect(first.status).toBe(303);
      // The LMS makes them a student again and renames them; the next launch records that.
      enrolment.role = "student";
      user.givenName = "Newname";
      expect((await launch({ platformUrl: lms.url, course: "2", user: "candidate" })).status).toBe(303);
      const { issuer, clientId } = lms.platform.registration();
      const course = { issuer, clientId, deploymentId: "1", contextId: "2" };
      const enrolments = new DynamoEnrolmentStore(stack.aws.doc, stack.aws.tableName);
      const recorded = async () =>
        (await enrolments.listCourse(course))
          .filter((e) => e.userId === "4")
          .map((e) => ({ role: e.role, name: e.name, ltiRoles: e.ltiRoles, lastLaunchAt: e.lastLaunchAt }));
      const before = await recorded();
      expect(before).toMatchObject([{ role: "candidate", name: expect.stringContaining("Newname") }]);
      expect((await postLaunchAgain(first)).status).toBe(400);
      expect(await recorded()).toEqual(before);
    } finally {
      await lms.stop();
    }
  });

  it("accepts launches after the platform rotates its key", async () => {
    await launch({ platformUrl: platform.url, course: "2", user: "candidate" });
    await platform.platform.rotateKey();
    const result = await launch({ platformUrl: platform.url, course: "2", user: "candidate" });
    expect(result.status).toBe(303);
  });

  it("refuses a login whose issuer is too long for a DynamoDB key with a 400, not a 500", async () => {
    for (const iss of [
      `https://lms.example/${"a".repeat(2020)}`,
      `https://lms.example/${"語".repeat(700)}`,
    ]) {
      const params = new URLSearchParams({
        iss,
        login_hint: "u",
        target_link_uri: `${tool.url}/app`,
        client_id: "c",
      });
      const res = await fetch(`${tool.url}/lti/login?${params}`, { redirect: "manual" });
      expect(res.status).toBe(400);
    }
  });

  it("names an unregistered deployment in plain words", async () => {
    const other = await newPlatform("7", false);
    try {
      const { deploymentIds: _d, ...reg } = other.platform.registration();
      await registerPlatform(
        { ...reg, deploymentIds: ["1"] },
        new DynamoRegistrationStore(stack.aws.doc, stack.aws.tableName),
      );
      const result = await launch({ platformUrl: other.url, course: "2", user: "candidate" }).catch((e) => e);
      const html: string = result.html;
      expect(html).toContain("deployment 7, which is not registered");
    } finally {
      await other.stop();
    }
  });
});
