import { describe, expect, it } from "vitest";
import { PROBLEM_BASE } from "../../../domain/errors.js";
import { createXapiAdminRoutes } from "../../../functions/admin/routes/xapi.js";
import { jsonLogger } from "../../../functions/web/log.js";
import { CLAIM } from "../../../lti-tool/claims.js";
import { beginLaunch, form, launch, loginFields, registrationLinkPath } from "../../support/app-launch.js";
import { memoryApp } from "../../support/memory-app.js";
import { deepLinkingClaims, testPlatform } from "../../support/test-platform.js";

// Found by an adversarial pass over every route (2026-11-24): each of these gave a 500, or a
// token the tool then refused. Every one must be a 4xx in plain words, with nothing half-done.

const asProblem = { accept: "application/problem+json" };
const problemType = async (res: Response) => ((await res.json()) as { type: string }).type;
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("a form the tool cannot read", () => {
  const unreadable: [string, string][] = [
    ["multipart/form-data", "x"],
    ["multipart/form-data; boundary=XX", "this is not multipart"],
  ];

  it.each(["/lti/login", "/lti/launch", "link", "/lti/deep-link/respond", "/admin/login", "/app"])(
    "is a 400 with a page, not a 500: POST %s",
    async (route) => {
      const { app, deps } = await memoryApp(await testPlatform());
      const path = route === "link" ? await registrationLinkPath(deps) : route;
      for (const [type, body] of unreadable) {
        const res = await app.request(path, { method: "POST", headers: { "content-type": type }, body });
        expect(res.status).toBe(400);
        const page = await res.text();
        expect(page).toContain("could not be read");
        expect(page).toMatch(/Reference: <code>[0-9a-f]{8}<\/code>/);
      }
    },
  );
});

describe("a login with hints too long for the cookie check's address", () => {
  it("is a 400 in plain words, while hints a quarter as long still go to the check", async () => {
    const { app } = await memoryApp(await testPlatform());
    const login = (size: number) =>
      app.request(
        "/lti/login",
        form({
          ...loginFields,
          // Within each field's own bound (4,096, 2,048 and 2,048 characters).
          lti_message_hint: "h".repeat(4096 * size),
          login_hint: "u".repeat(2048 * size),
          target_link_uri: `https://tool.test/app?${"t".repeat(2000 * size)}`,
        }),
      );
    // A 1,024-character message hint (Canvas's, a JWT, is under one), a 512-character login hint.
    const quarter = await login(0.25);
    expect(quarter.status).toBe(302);
    expect(quarter.headers.get("location")?.length).toBeLessThan(8_100);
    const whole = await login(1);
    expect(whole.status).toBe(400);
    expect(await whole.text()).toContain("more than the tool can carry in a web address");
    expect(whole.headers.get("location")).toBeNull();
    const problem = await app.request("/lti/login", {
      ...form({
        ...loginFields,
        lti_message_hint: "h".repeat(4096),
        login_hint: "u".repeat(2048),
        target_link_uri: `https://tool.test/app?${"t".repeat(2000)}`,
      }),
      headers: { "content-type": "application/x-www-form-urlencoded", ...asProblem },
    });
    expect(await problemType(problem)).toBe(`${PROBLEM_BASE}lti.invalid_login_request`);
  });
});

describe("launch tokens with values of the wrong kind", () => {
  it("refuses a header whose alg is an object as an unsupported algorithm", async () => {
    const { post } = await beginLaunch();
    for (const alg of [{ toString: 1 }, {}, ["RS256"]]) {
      const token = `${b64url({ alg, kid: "k" })}.${b64url({})}.c2ln`;
      const res = await post(token, asProblem);
      expect(res.status).toBe(400);
      expect(await problemType(res)).toBe(`${PROBLEM_BASE}lti.unsupported_algorithm`);
    }
  });

  it("refuses a signed version or message type that is an object, by its kind", async () => {
    const version = await launch((c) => {
      c[CLAIM.version] = { toString: 1 };
    });
    expect(version.response.status).toBe(400);
    expect(await version.response.text()).toContain("a value of type object");

    const messageType = await launch((c) => {
      c[CLAIM.messageType] = { toString: 1 };
    });
    expect(messageType.response.status).toBe(400);
    expect(await messageType.response.text()).toContain("a value of type object");
  });

  it("opens the home page for a target link whose escapes are broken", async () => {
    for (const target of ["https://tool.test/app/activity/%zz", "https://tool.test/app/activity/%E0%A4%A"]) {
      const { response, app } = await launch((c) => {
        c[CLAIM.targetLinkUri] = target;
      });
      expect(response.status).toBe(303);
      const page = await app.request(response.headers.get("location") ?? "");
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Your HLTA preparation");
    }
  });
});

describe("claims too big for what the tool keeps", () => {
  it.each([
    ["a name of 250,000 characters", (c: Record<string, unknown>) => (c.name = "n".repeat(250_000))],
    [
      "a course title of 12,000 characters",
      (c: Record<string, unknown>) => (c[CLAIM.context] = { id: "course-1", title: "t".repeat(12_000) }),
    ],
    [
      "15,000 roles",
      (c: Record<string, unknown>) =>
        (c[CLAIM.roles] = Array.from({ length: 15_000 }, (_, i) => `urn:role:${i}`)),
    ],
    ["a user id of 100 emoji (over 400 bytes)", (c: Record<string, unknown>) => (c.sub = "😀".repeat(101))],
    ["a user id with control characters", (c: Record<string, unknown>) => (c.sub = "user\u0000\u0001")],
    ["a user id with unreadable bytes (U+FFFD)", (c: Record<string, unknown>) => (c.sub = "user\uFFFD")],
    // JSON's "\ud800" escape: hashed as UTF-8 it would be the same user as "user\udfff".
    ["a user id with a lone surrogate", (c: Record<string, unknown>) => (c.sub = "user\ud800")],
    [
      "a course id with a lone surrogate",
      (c: Record<string, unknown>) => (c[CLAIM.context] = { id: "course-\udfff" }),
    ],
    [
      "deep-linking data of 13,000 characters",
      (c: Record<string, unknown>) => {
        deepLinkingClaims(c);
        (c[CLAIM.deepLinkingSettings] as Record<string, unknown>).data = "d".repeat(13_000);
      },
    ],
    [
      "a deep-linking return address in plain http to another machine",
      (c: Record<string, unknown>) => {
        deepLinkingClaims(c);
        (c[CLAIM.deepLinkingSettings] as Record<string, unknown>).deep_link_return_url =
          "http://moodle.school.test/mod/lti/contentitem_return.php";
      },
    ],
    [
      "a deep-linking return address that is javascript:",
      (c: Record<string, unknown>) => {
        deepLinkingClaims(c);
        (c[CLAIM.deepLinkingSettings] as Record<string, unknown>).deep_link_return_url =
          "javascript:alert(1)";
      },
    ],
  ])("refuses %s with the claim named, and spends nothing", async (_name, edit) => {
    const { response, enrolments, replay } = await launch(edit);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("in a form the tool cannot use");
    expect(enrolments.byCourse.size).toBe(0);
    // Not spent: the same post is refused for the same reason, not as a replay.
    expect(await problemType(await replay())).toBe(`${PROBLEM_BASE}lti.invalid_claims`);
  });

  it("keeps the session short enough for a URL, however long the name and course title", async () => {
    const { response, app } = await launch((c) => {
      // JSON escapes control characters six-fold: the worst case for the token's length.
      c.name = "\u0001".repeat(1000);
      c[CLAIM.context] = { id: "course-1", title: "\u0002".repeat(1000) };
    });
    expect(response.status).toBe(303);
    const location = response.headers.get("location") ?? "";
    expect(location.length).toBeLessThan(8_000);
    expect((await app.request(location)).status).toBe(200);
  });
});

describe("a token the tool could not hand back", () => {
  it("is refused before the login is spent, so nothing is half-done", async () => {
    // Within every claim's bounds, but JSON writes each control character as six: the picker's
    // sealed form field would be longer than the tool opens.
    const { response, replay } = await launch((c) => {
      deepLinkingClaims(c);
      (c[CLAIM.deepLinkingSettings] as Record<string, unknown>).data = "\u0001".repeat(2048);
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("more with this launch than the tool can carry");
    // The same post meets the same refusal, not "already used".
    expect(await problemType(await replay())).toBe(`${PROBLEM_BASE}lti.launch_too_large`);
  });
});

describe("what a request's sender sizes", () => {
  it("reaches the logs cut short: a token's 300,000-character kid is logged as its first thousand", async () => {
    const lines: string[] = [];
    const { post } = await beginLaunch({ deps: () => ({ log: jsonLogger((line) => lines.push(line)) }) });
    const token = `${b64url({ alg: "RS256", kid: "k".repeat(300_000) })}.${b64url({})}.c2ln`;
    const res = await post(token, asProblem);
    expect(res.status).toBe(400);
    const logged = lines.find((l) => l.includes("lti.unknown_kid"));
    expect(logged).toBeDefined();
    expect(logged?.length).toBeLessThan(5_000);
    expect(logged).toContain("(300000 characters)");
  });
});

describe("the xAPI admin sub-app", () => {
  it("hands an unexpected failure to the web app's handler: logged, with a reference", async () => {
    const lines: string[] = [];
    const p = await testPlatform();
    const failing = () => Promise.reject(new Error("DynamoDB is unavailable"));
    const { app, adminToken } = await memoryApp(p, {
      log: jsonLogger((line) => lines.push(line)),
      adminApps: [
        {
          path: "xapi",
          title: "xAPI delivery",
          app: createXapiAdminRoutes({
            outbox: {
              backlog: failing,
              listParked: failing,
              replayParked: failing,
              replayAllParked: failing,
            },
            routes: { listRoutes: failing, getRoute: async () => undefined },
          }),
        },
      ],
    });
    const token = await adminToken();
    const res = await app.request(`/admin/xapi?s=${encodeURIComponent(token)}`);
    expect(res.status).toBe(500);
    const reference = /Reference: <code>([0-9a-f]{8})<\/code>/.exec(await res.text())?.[1];
    expect(reference).toBeDefined();
    expect(lines.some((l) => l.includes('"unhandled"') && l.includes(reference ?? "?"))).toBe(true);

    // Its own known errors keep their problem+json, now with the request's reference.
    const unknown = await app.request(`/admin/xapi/api/routes/${"r".repeat(2100)}/parked/replay?s=${token}`, {
      method: "POST",
      headers: asProblem,
    });
    expect(unknown.status).toBe(404);
    const problem = (await unknown.json()) as { type: string; reference?: string };
    expect(problem.type).toBe(`${PROBLEM_BASE}xapi.route_not_found`);
    expect(problem.reference).toMatch(/^[0-9a-f]{8}$/);

    // The JSON API answers problem+json even to a client that did not ask for it.
    const signedOut = await app.request("/admin/xapi/api/routes");
    expect(signedOut.status).toBe(401);
    expect(signedOut.headers.get("content-type")).toBe("application/problem+json");
  });
});

describe("dynamic registration page", () => {
  it("refuses a configuration address that is not a web address before showing anything", async () => {
    const { app, deps } = await memoryApp(await testPlatform());
    const link = await registrationLinkPath(deps);
    for (const address of ["file:///etc/passwd", "mailto:admin@moodle.test"]) {
      const res = await app.request(`${link}?openid_configuration=${encodeURIComponent(address)}`);
      expect(res.status).toBe(400);
    }
  });
});

// The same valid launch still goes through: the bounds sit far above what LMSs send.
it("still takes an ordinary launch to the standards page", async () => {
  const { response, app } = await launch();
  expect(response.status).toBe(303);
  expect((await app.request(response.headers.get("location") ?? "")).status).toBe(200);
});
