import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import type { ParkedGrades } from "../../../functions/web/deps.js";
import { CLAIM } from "../../../lti-tool/claims.js";
import { registrationLinkPath } from "../../support/app-launch.js";
import { memoryApp } from "../../support/memory-app.js";
import {
  CLIENT_ID,
  deepLinkingClaims,
  ISSUER,
  sign,
  testPlatform,
  validClaims,
} from "../../support/test-platform.js";

const formPost = (fields: Record<string, string | string[]>, headers: Record<string, string> = {}) => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields))
    for (const value of ([] as string[]).concat(v)) body.append(k, value);
  return {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: body.toString(),
  };
};

const loginFields = {
  iss: ISSUER,
  login_hint: "user-1",
  target_link_uri: "https://tool.test/app",
  client_id: CLIENT_ID,
  lti_deployment_id: "1",
};

async function launched(
  edit: (c: Record<string, unknown>) => void,
  extraLogin: Record<string, string> = {},
  cookieless = false,
) {
  const p = await testPlatform();
  const ctx = await memoryApp(p);
  const login = await ctx.app.request("/lti/login", formPost({ ...loginFields, ...extraLogin }));
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  return {
    p,
    ctx,
    login,
    cookie,
    async launch(state: string, nonce: string) {
      const claims = validClaims(nonce);
      edit(claims);
      return ctx.app.request(
        "/lti/launch",
        formPost({ id_token: await sign(claims, p.signingKey), state }, cookieless ? {} : { cookie }),
      );
    },
  };
}

async function stateAndNonce(
  app: { request: (u: string, i?: RequestInit) => Response | Promise<Response> },
  loginRes: Response,
  cookie: string,
) {
  const check = await app.request(loginRes.headers.get("location") ?? "", { headers: { cookie } });
  const auth = new URL(check.headers.get("location") ?? "");
  return { state: auth.searchParams.get("state") ?? "", nonce: auth.searchParams.get("nonce") ?? "" };
}

describe("deep linking", () => {
  it("shows a tutor the activities, then auto-posts a signed response to the return URL", async () => {
    const t = await launched(deepLinkingClaims);
    const { state, nonce } = await stateAndNonce(t.ctx.app, t.login, t.cookie);
    const picker = await t.launch(state, nonce);
    expect(picker.status).toBe(200);
    const html = await picker.text();
    expect(html).toContain("Add an HLTA activity to your course");
    for (const id of ["module-standards", "written-tasks", "evidence-file", "cohort"])
      expect(html).toContain(`value="${id}"`);
    const dl = html.match(/name="dl" value="([^"]+)"/)?.[1] ?? "";
    const respond = await t.ctx.app.request(
      "/lti/deep-link/respond",
      formPost({ dl, activity: ["module-standards", "cohort"] }),
    );
    const page = await respond.text();
    expect(page).toContain('action="https://moodle.school.test/mod/lti/contentitem_return.php?course=2"');
    const jwt = page.match(/name="JWT" value="([^"]+)"/)?.[1] ?? "";
    const claims = decodeJwt(jwt);
    expect(claims.aud).toBe(ISSUER);
    expect(claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"]).toBe("keep-me");
    const items = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"] as Record<
      string,
      unknown
    >[];
    expect(items.map((i) => i.url)).toEqual([
      "https://tool.test/app/activity/module-standards",
      "https://tool.test/app/activity/cohort",
    ]);
    expect(items[0]?.lineItem).toEqual({
      scoreMaximum: 100,
      label: "Check your understanding: the standards",
      resourceId: "module-standards",
      tag: "hlta",
    });
    expect(items[1]).not.toHaveProperty("lineItem");
    // The same activity sent twice (a hand-edited form) places one link: two would be two columns.
    const next = await launched(deepLinkingClaims);
    const nextLogin = await stateAndNonce(next.ctx.app, next.login, next.cookie);
    const nextDl =
      (await (await next.launch(nextLogin.state, nextLogin.nonce)).text()).match(
        /name="dl" value="([^"]+)"/,
      )?.[1] ?? "";
    const twice = await next.ctx.app.request(
      "/lti/deep-link/respond",
      formPost({ dl: nextDl, activity: ["module-standards", "module-standards"] }),
    );
    const twiceJwt = (await twice.text()).match(/name="JWT" value="([^"]+)"/)?.[1] ?? "";
    const placed = decodeJwt(twiceJwt)[
      "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
    ] as unknown[];
    expect(placed).toHaveLength(1);
  });

  it("sends one answer per picker page: the page sent again adds nothing, a page that chose nothing still can", async () => {
    const t = await launched(deepLinkingClaims);
    const { state, nonce } = await stateAndNonce(t.ctx.app, t.login, t.cookie);
    const dl = (await (await t.launch(state, nonce)).text()).match(/name="dl" value="([^"]+)"/)?.[1] ?? "";
    const respond = (fields: Record<string, string | string[]>, headers: Record<string, string> = {}) =>
      t.ctx.app.request("/lti/deep-link/respond", formPost({ dl, ...fields }, headers));
    const claims: { nonce: string; expiresAt: number }[] = [];
    const used = t.p.states.used;
    const claim = used.claim.bind(used);
    used.claim = (issuer, nonce, stateId, expiresAt) => {
      claims.push({ nonce, expiresAt });
      return claim(issuer, nonce, stateId, expiresAt);
    };
    // Nothing chosen: the picker again, and the page is not spent.
    expect((await respond({})).status).toBe(400);
    // Nor when the response cannot be signed (the key store failing): the tutor can send it again.
    const signer = t.ctx.deps.signer;
    t.ctx.deps.signer = {
      ...signer,
      sign: async () => {
        throw new Error("key store unavailable");
      },
    };
    expect((await respond({ activity: "cohort" })).status).toBe(500);
    t.ctx.deps.signer = signer;
    const first = await respond({ activity: "cohort" });
    expect(first.status).toBe(200);
    expect(await first.text()).toMatch(/name="JWT" value="[^"]+"/);
    // Spent under the page's own one-time id, remembered a minute past the page's expiry.
    const sealed = decodeJwt(dl) as { once: string; exp: number };
    expect(claims).toEqual([{ nonce: `once:${sealed.once}`, expiresAt: sealed.exp + 60 }]);
    // The back button, a reload or a copied form: refused, with no second response to the LMS.
    const again = await respond({ activity: "written-tasks" }, { accept: "application/problem+json" });
    expect(again.status).toBe(400);
    const problem = (await again.json()) as { type: string };
    expect(problem.type).toMatch(/lti\.deep_linking_answer_replayed$/);
    const page = await (await respond({ activity: "cohort" })).text();
    expect(page).not.toContain('name="JWT"');
    expect(page).toContain('data-next-step="relaunch"');
  });

  it("refuses a candidate's deep-linking launch", async () => {
    const t = await launched((c) => {
      deepLinkingClaims(c);
      c[CLAIM.roles] = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"];
    });
    const { state, nonce } = await stateAndNonce(t.ctx.app, t.login, t.cookie);
    expect((await t.launch(state, nonce)).status).toBe(403);
  });

  it("refuses a forged or missing deep-linking context and an unknown activity", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    expect(
      (await app.request("/lti/deep-link/respond", formPost({ dl: "forged", activity: "cohort" }))).status,
    ).toBe(401);
    const t = await launched(deepLinkingClaims);
    const { state, nonce } = await stateAndNonce(t.ctx.app, t.login, t.cookie);
    const dl = (await (await t.launch(state, nonce)).text()).match(/name="dl" value="([^"]+)"/)?.[1] ?? "";
    expect(
      (await t.ctx.app.request("/lti/deep-link/respond", formPost({ dl, activity: "nope" }))).status,
    ).toBe(400);
  });

  it("opens a deep-linked activity straight away", async () => {
    const t = await launched((c) => {
      c[CLAIM.custom] = { activity: "evidence-file" };
      c[CLAIM.targetLinkUri] = "https://tool.test/app/activity/evidence-file";
    });
    const { state, nonce } = await stateAndNonce(t.ctx.app, t.login, t.cookie);
    const res = await t.launch(state, nonce);
    const page = await (await t.ctx.app.request(res.headers.get("location") ?? "")).text();
    expect(page).toContain("<h1>Evidence file</h1>");
  });
});

describe("Platform Storage", () => {
  it("puts the browser secret in the platform's storage at login, posting to the platform's origin", async () => {
    const t = await launched(() => {}, { lti_storage_target: "post_message_forwarding" });
    expect(t.login.status).toBe(200);
    const html = await t.login.text();
    expect(html).toContain('"storageTarget":"post_message_forwarding"');
    expect(html).toContain('"platformOrigin":"https://moodle.school.test"');
    expect(html).toContain("lti.put_data");
    expect(html).toMatch(/"authUrl":"https:\/\/moodle\.school\.test\/mod\/lti\/auth\.php\?/);
    // Announced to screen readers, and without scripts a link on to the cookie check, which needs none.
    expect(html).toContain('<p role="status">Opening the tool…</p>');
    expect(html).toMatch(
      /<noscript><p><a class="button" href="https:\/\/tool\.test\/lti\/login\/check\?c=[^"]+">/,
    );
  });

  it("reads it back at launch when the cookie did not come, and accepts the launch with it", async () => {
    const t = await launched(() => {}, { lti_storage_target: "post_message_forwarding" }, true);
    const html = await t.login.text();
    const value = html.match(/"value":"([^"]+)"/)?.[1] ?? "";
    const auth = new URL(JSON.parse(`"${html.match(/"authUrl":"([^"]+)"/)?.[1]}"`));
    const state = auth.searchParams.get("state") ?? "";
    const first = await t.launch(state, auth.searchParams.get("nonce") ?? "");
    const page = await first.text();
    expect(page).toContain("lti.get_data");
    expect(page).toMatch(/<p id="status" role="status">/);
    expect(page).toContain("Your browser runs no scripts here");
    const idToken = page.match(/name="id_token" value="([^"]+)"/)?.[1] ?? "";
    // The GetDataPage posts from the tool's own origin, as the browser says.
    const second = await t.ctx.app.request(
      "/lti/launch",
      formPost({ id_token: idToken, state, lti_storage_secret: value }, { "sec-fetch-site": "same-origin" }),
    );
    expect(second.status).toBe(303);
  });

  it("refuses a wrong secret from storage", async () => {
    const t = await launched(() => {}, { lti_storage_target: "_parent" }, true);
    const html = await t.login.text();
    const auth = new URL(JSON.parse(`"${html.match(/"authUrl":"([^"]+)"/)?.[1]}"`));
    const claims = validClaims(auth.searchParams.get("nonce") ?? "");
    const idToken = await sign(claims, t.p.signingKey);
    const res = await t.ctx.app.request(
      "/lti/launch",
      formPost(
        {
          id_token: idToken,
          state: auth.searchParams.get("state") ?? "",
          lti_storage_secret: "guess",
        },
        { "sec-fetch-site": "same-origin" },
      ),
    );
    expect(res.status).toBe(401);
  });
});

describe("dynamic registration pages and Canvas configuration", () => {
  it("asks the administrator to confirm, keeping the registration token", async () => {
    const p = await testPlatform();
    const { app, deps } = await memoryApp(p);
    const link = await registrationLinkPath(deps);
    const res = await app.request(
      `${link}?openid_configuration=https%3A%2F%2Fmoodle.school.test%2Fmod%2Flti%2Fopenid-configuration.php&registration_token=abc`,
    );
    const html = await res.text();
    expect(html).toContain("moodle.school.test");
    expect(html).toContain('name="registration_token" value="abc"');
    // The confirmation posts back to the same link.
    expect(html).toContain(`action="https://tool.test${link}"`);
  });

  it("refuses the registration page without a configuration address", async () => {
    const p = await testPlatform();
    const { app, deps } = await memoryApp(p);
    expect((await app.request(await registrationLinkPath(deps))).status).toBe(400);
  });

  it("serves the Canvas JSON configuration with the tool's URLs", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const config = await (await app.request("/lti/canvas.json")).json();
    expect(config.oidc_initiation_url).toBe("https://tool.test/lti/login");
    expect(config.public_jwk_url).toBe("https://tool.test/.well-known/jwks.json");
  });
});

describe("tool administration", () => {
  it("lists platforms with their deployments after signing in with the administrator key", async () => {
    const p = await testPlatform();
    const { app, adminKey } = await memoryApp(p);
    expect((await app.request("/admin/platforms")).status).toBe(401);
    expect((await app.request("/admin/login", formPost({ key: "wrong" }))).status).toBe(401);
    const login = await app.request(
      "/admin/login",
      formPost({ key: Buffer.from(adminKey).toString("base64url") }),
    );
    expect(login.status).toBe(303);
    const page = await (await app.request(login.headers.get("location") ?? "")).text();
    expect(page).toContain(ISSUER);
    expect(page).toContain(`<code>${CLIENT_ID}</code>`);
    expect(page).toContain("npm run keys -- rotate");
  });

  it("does not accept an LTI session token as an admin token", async () => {
    const p = await testPlatform();
    const { app, deps } = await memoryApp(p);
    const token = await deps.sessions.issue({
      course: { issuer: ISSUER, clientId: CLIENT_ID, deploymentId: "1", contextId: "c" },
      userId: "u",
      role: "administrator",
    });
    expect((await app.request(`/admin/platforms?s=${token}`)).status).toBe(401);
  });

  it("refuses every page and action on registration links and parked grades without an administrator's sign-in, changing nothing", async () => {
    const p = await testPlatform();
    const course = { issuer: ISSUER, clientId: CLIENT_ID, deploymentId: "1", contextId: "course-1" };
    const parkedJob = { course, activityId: "written-tasks", userId: "user-1", jobId: "job-1" };
    const replayed: string[] = [];
    const grades: ParkedGrades = {
      parked: async () => [{ ...parkedJob, lastError: { reason: "the gradebook refused it" } }],
      replay: async (_course, _activityId, _userId, jobId) => {
        replayed.push(jobId);
      },
    };
    const { app, adminToken, deps } = await memoryApp(p, { grades });
    await registrationLinkPath(deps, "St Mary's Moodle");
    const nowSeconds = () => Math.floor(Date.now() / 1000);
    const [link] = await deps.registrationLinks.list(nowSeconds());
    const requests = (s: string) =>
      [
        [`/admin/links${s}`, undefined],
        [`/admin/links${s}`, formPost({ note: "a stranger's LMS" })],
        [`/admin/links/remove${s}`, formPost({ id: link?.id ?? "" })],
        [`/admin/grades${s}`, undefined],
        [`/admin/grades/replay${s}`, formPost({ job: JSON.stringify(parkedJob) })],
      ] as const;
    const ltiSession = await deps.sessions.issue({ course, userId: "user-1", role: "administrator" });
    for (const s of ["", `?s=${ltiSession}`, "?s=not-a-token"]) {
      for (const [path, init] of requests(s)) {
        const res = await app.request(path, init);
        expect(res.status, `${init ? "POST" : "GET"} ${path}`).toBe(401);
        expect(await res.text(), path).not.toContain("the gradebook refused it");
      }
    }
    expect((await deps.registrationLinks.list(nowSeconds())).map((l) => l.note)).toEqual([
      "St Mary's Moodle",
    ]);
    expect(replayed).toEqual([]);
    // Signed in, the same requests do what they say.
    const signedIn = `?s=${await adminToken()}`;
    const statuses: number[] = [];
    for (const [path, init] of requests(signedIn)) statuses.push((await app.request(path, init)).status);
    expect(statuses).toEqual([200, 201, 303, 200, 303]);
    expect(replayed).toEqual(["job-1"]);
    expect((await deps.registrationLinks.list(nowSeconds())).map((l) => l.note)).toEqual([
      "a stranger's LMS",
    ]);
  });
});
