import { describe, expect, it } from "vitest";
import { PROBLEM_BASE } from "../../../domain/errors.js";
import { CLAIM } from "../../../lti-tool/claims.js";
import { ROTATION_LEAD_MS } from "../../../lti-tool/tool-keys.js";
import { beginLaunch, form, launch, loginFields } from "../../support/app-launch.js";
import { MemoryEnrolments, memoryApp } from "../../support/memory-app.js";
import {
  CLIENT_ID,
  deepLinkingClaims,
  ISSUER,
  sign,
  testPlatform,
  validClaims,
} from "../../support/test-platform.js";

/** The names of the cookies an answer tells the browser to forget (Max-Age=0). */
const clearedCookies = (response: Response) =>
  response.headers
    .getSetCookie()
    .filter((c) => /;\s*Max-Age=0\b/i.test(c))
    .map((c) => c.slice(0, c.indexOf("=")));

describe("login initiation", () => {
  it("redirects a POSTed login, once its cookie is confirmed, to the platform with every OIDC parameter (Security Framework §5.1.1.2)", async () => {
    const { login, check, auth, setCookie } = await launch();
    expect(login.status).toBe(302);
    expect(login.headers.get("location")).toMatch(/^https:\/\/tool\.test\/lti\/login\/check\?c=/);
    expect(check.status).toBe(302);
    expect(`${auth.origin}${auth.pathname}`).toBe(`${ISSUER}/mod/lti/auth.php`);
    const q = Object.fromEntries(auth.searchParams);
    expect(q).toMatchObject({
      scope: "openid",
      response_type: "id_token",
      response_mode: "form_post",
      prompt: "none",
      client_id: CLIENT_ID,
      redirect_uri: "https://tool.test/lti/launch",
      login_hint: "user-1",
      lti_message_hint: "hint-1",
    });
    // The state is the login sealed (a compact HS256 JWS), short enough for any LMS's URLs.
    expect(q.state).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(q.state?.length).toBeLessThan(1024);
    expect(q.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.state).not.toBe(q.nonce);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/Secure/i);
    expect(setCookie).toMatch(/SameSite=None/i);
    expect(setCookie).toMatch(/Partitioned/i);
  });

  it("skips the cookie check for a browser whose cookies came back in this LMS before", async () => {
    const { check } = await launch();
    // The check saw the state cookie come back: it marks this browser (partitioned, like the state).
    const marker = (check.headers.getSetCookie?.() ?? []).find((c) => c.startsWith("hlta_lti_ok=1"));
    expect(marker).toMatch(/Partitioned/i);
    expect(marker).toMatch(/SameSite=None/i);
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const again = await app.request("/lti/login", {
      ...form(loginFields),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: "hlta_lti_ok=1" },
    });
    expect(again.status).toBe(302);
    expect(again.headers.get("location")).toContain(`${ISSUER}/mod/lti/auth.php?`);
    // Without the marker the check runs, as before.
    const fresh = await app.request("/lti/login", form(loginFields));
    expect(fresh.headers.get("location")).toMatch(/\/lti\/login\/check\?c=/);
  });

  it("accepts a GET login the same way", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const res = await app.request(`/lti/login?${new URLSearchParams(loginFields)}`);
    expect(res.status).toBe(302);
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const check = await app.request(res.headers.get("location") ?? "", { headers: { cookie } });
    expect(check.headers.get("location")).toContain("/mod/lti/auth.php?");
  });

  it("answers an unregistered issuer with a plain-words HTML page and a reference, not a 500", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const res = await app.request(
      "/lti/login",
      form({ ...loginFields, iss: "https://unknown.test", client_id: "x" }),
    );
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain("https://unknown.test");
    expect(html).toMatch(/Reference: <code>[0-9a-f]{8}<\/code>/);
  });

  it("refuses a login missing required parameters with 400", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const res = await app.request("/lti/login", form({ iss: ISSUER }));
    expect(res.status).toBe(400);
  });

  it("names an unregistered deployment already at login", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const res = await app.request("/lti/login", form({ ...loginFields, lti_deployment_id: "3" }));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("deployment 3, which is not registered for");
  });
});

describe("launch to the first page", () => {
  it("takes a candidate to the 33 standards, each not started", async () => {
    const { app, response, enrolments } = await launch();
    expect(response.status).toBe(303);
    const location = response.headers.get("location") ?? "";
    expect(location).toMatch(/^\/app\?s=/);
    expect(response.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    const page = await app.request(location);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Your HLTA preparation");
    expect(html.match(/data-standard="/g)).toHaveLength(33);
    expect(html.match(/data-status="not_started"/g)).toHaveLength(33);
    for (const group of [
      "Professional attributes",
      "Knowledge and understanding",
      "Monitoring and assessment",
    ]) {
      expect(html).toContain(group);
    }
    expect(html).toContain("not a qualification");
    expect((await [...enrolments.byCourse.values()][0]?.get("user-1"))?.role).toBe("candidate");
  });

  it("takes a tutor to the cohort page listing candidates who launched", async () => {
    const { app, response } = await launch((c) => {
      c.sub = "tutor-1";
      c[CLAIM.roles] = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"];
    });
    const page = await app.request(response.headers.get("location") ?? "");
    const html = await page.text();
    expect(html).toContain("Your HLTA cohort");
  });

  it("shows an LMS administrator who teaches nothing in the course no one's progress", async () => {
    const { app, response } = await launch((c) => {
      c.sub = "admin-1";
      c[CLAIM.roles] = ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"];
    });
    const page = await app.request(response.headers.get("location") ?? "");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("You opened it as an LMS administrator");
    expect(html).not.toContain("Your HLTA cohort");
    expect(html).not.toContain("Your HLTA preparation");
  });

  it("says what the login address is for when it is opened in a browser with nothing", async () => {
    const { app } = await memoryApp(await testPlatform());
    const page = await app.request("/lti/login");
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("This address receives logins from your LMS");
    const partial = await app.request("/lti/login?iss=https%3A%2F%2Fmoodle.test");
    expect(await partial.text()).toContain("without the information the tool needs");
  });

  it("offers a new window before going to the platform when the frame's browser refuses the cookie", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const login = await app.request("/lti/login", form(loginFields));
    const check = await app.request(login.headers.get("location") ?? "");
    expect(check.status).toBe(200);
    const html = await check.text();
    expect(html).toContain("Open in a new window");
    expect(html).toMatch(/href="https:\/\/tool\.test\/lti\/login\?[^"]*login_hint=user-1[^"]*"/);
    expect(html).toContain("lti_message_hint=hint-1");
    expect(html).toContain('target="_blank"');
  });

  it("refuses a cookie check for a state it never issued", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const check = await app.request("/lti/login/check?c=forged.token.here");
    expect(check.status).toBe(400);
  });

  it("refuses a launch whose browser lost the state cookie after the check", async () => {
    const { response } = await launch(undefined, { dropCookie: true });
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toContain("text/html");
  });

  it("refuses a cookie-bound launch whose secret comes in a form field instead (login CSRF)", async () => {
    // An attacker logs in as themself, keeps their state, cookie value and id_token, and makes
    // the victim's browser post them with the secret as a form field: no cookie in that browser.
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const login = await app.request("/lti/login", form(loginFields));
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const secret = cookie.slice(cookie.indexOf("=") + 1);
    const check = await app.request(login.headers.get("location") ?? "", { headers: { cookie } });
    const auth = new URL(check.headers.get("location") ?? "");
    const idToken = await sign(validClaims(auth.searchParams.get("nonce") ?? ""), p.signingKey);
    const fields = {
      id_token: idToken,
      state: auth.searchParams.get("state") ?? "",
      lti_storage_secret: secret,
    };
    const attempts: Record<string, string>[] = [
      { origin: "https://attacker.example" },
      {},
      // Even "from our own page": a state sealed for the cookie takes only the cookie.
      { "sec-fetch-site": "same-origin" },
    ];
    for (const headers of attempts) {
      const res = await app.request("/lti/launch", {
        ...form(fields),
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      });
      expect(res.status).toBe(401);
    }
    // The attacker's launch is still unspent: the platform's own post with the cookie goes through.
    const own = await app.request("/lti/launch", {
      ...form({ id_token: idToken, state: fields.state }),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
    });
    expect(own.status).toBe(303);
  });

  it("takes the Platform Storage secret only from the tool's own page", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const login = await app.request("/lti/login", form({ ...loginFields, lti_storage_target: "_parent" }));
    const html = await login.text();
    const secret = /"value":"([A-Za-z0-9_-]{43})"/.exec(html)?.[1] ?? "";
    const authUrl = new URL(/"authUrl":"([^"]+)"/.exec(html)?.[1]?.replaceAll("\\u0026", "&") ?? "");
    expect(secret).not.toBe("");
    const state = authUrl.searchParams.get("state") ?? "";
    const idToken = await sign(validClaims(authUrl.searchParams.get("nonce") ?? ""), p.signingKey);
    const post = (headers: Record<string, string>) =>
      app.request("/lti/launch", {
        ...form({ id_token: idToken, state, lti_storage_secret: secret }),
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      });
    // From another site the field is ignored: the tool asks the platform's storage again.
    const foreign = await post({ origin: "https://attacker.example", "sec-fetch-site": "cross-site" });
    expect(foreign.status).toBe(200);
    expect(await foreign.text()).toContain("lti.get_data");
    const own = await post({ "sec-fetch-site": "same-origin", origin: "https://tool.test" });
    expect(own.status).toBe(303);
  });

  it("stops trusting the cookies-work marker when the state cookie did not come back", async () => {
    const p = await testPlatform();
    const again = await memoryApp(p);
    const login = await again.app.request("/lti/login", {
      ...form(loginFields),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: "hlta_lti_ok=1" },
    });
    const next = new URL(login.headers.get("location") ?? "");
    expect(next.pathname).toBe("/mod/lti/auth.php");
    const idToken = await sign(validClaims(next.searchParams.get("nonce") ?? ""), p.signingKey);
    // The state cookie was dropped; only the marker came back.
    const res = await again.app.request("/lti/launch", {
      ...form({ id_token: idToken, state: next.searchParams.get("state") ?? "" }),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: "hlta_lti_ok=1" },
    });
    expect(res.status).toBe(401);
    expect(res.headers.getSetCookie().find((c) => c.startsWith("hlta_lti_ok="))).toMatch(/Max-Age=0/i);
  });

  it("refuses a login whose target link is too long to travel in the state", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const res = await app.request(
      "/lti/login",
      form({ ...loginFields, target_link_uri: `https://tool.test/app?x=${"a".repeat(2100)}` }),
    );
    expect(res.status).toBe(400);
  });

  it("says so when the LMS asks for content the tool does not make, rather than answer what it will refuse", async () => {
    const { response } = await launch((c) => {
      deepLinkingClaims(c);
      (c[CLAIM.deepLinkingSettings] as Record<string, unknown>).accept_types = ["file"];
    });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain("adds only activities");
    expect(html).not.toContain("Add an HLTA activity");
  });

  it("shows a launch failure as an HTML page with a reference", async () => {
    const { response } = await launch((c) => (c[CLAIM.deploymentId] = "3"));
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("deployment 3");
  });

  it.each([
    ["a candidate's launch, recorded with the enrolment", (_c: Record<string, unknown>) => {}, 303],
    ["a launch with no role the tool knows", (c: Record<string, unknown>) => (c[CLAIM.roles] = []), 403],
    ["a tutor's deep-linking launch", deepLinkingClaims, 200],
    [
      "a candidate's deep-linking launch",
      (c: Record<string, unknown>) => {
        deepLinkingClaims(c);
        c[CLAIM.roles] = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"];
      },
      403,
    ],
    [
      "a deep-linking launch asking for kinds of content the tool does not make",
      (c: Record<string, unknown>) => {
        deepLinkingClaims(c);
        const settings = c[CLAIM.deepLinkingSettings] as Record<string, unknown>;
        settings.accept_types = ["file", "html"];
      },
      400,
    ],
  ])("spends the login on every way out: %s", async (_name, edit, status) => {
    const { response, replay, enrolments } = await launch(edit);
    expect(response.status).toBe(status);
    // Spent, so its cookie goes with it.
    expect(clearedCookies(response)).toEqual([expect.stringMatching(/^hlta_lti_/)]);
    const recorded = () => JSON.stringify([...enrolments.byCourse].map(([k, v]) => [k, [...v]]));
    const enrolled = recorded();
    const again = await replay();
    expect(again.status).toBe(400);
    expect(((await again.json()) as { type: string }).type).toBe(`${PROBLEM_BASE}lti.state_replayed`);
    expect(recorded()).toBe(enrolled);
  });

  it("spends nothing when the launch cannot be recorded: no session, and the same post goes through after", async () => {
    let failures = 1;
    const { response, replay } = await launch(undefined, {
      deps: (p) => {
        const recorder = new MemoryEnrolments(p.states);
        return {
          launches: {
            recordLaunch: async (checked, at) => {
              if (failures-- > 0) throw new Error("DynamoDB is unavailable");
              return recorder.recordLaunch(checked, at);
            },
          },
        };
      },
    });
    expect(response.status).toBe(500);
    expect(response.headers.get("location")).toBeNull();
    // Nothing spent, so the browser keeps the state cookie the same post needs.
    expect(clearedCookies(response)).toEqual([]);
    const again = await replay();
    expect(again.status).toBe(303);
    expect(again.headers.get("location")).toMatch(/^\/app\?s=/);
  });

  it("lets the person in when only the deployment's last-launch time cannot be written", async () => {
    const { response } = await launch(undefined, {
      deps: (p) => {
        const registrations = Object.create(p.registrations) as typeof p.registrations;
        registrations.recordLaunch = async () => {
          throw new Error("DynamoDB is unavailable");
        };
        return { registrations };
      },
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toMatch(/^\/app\?s=/);
  });

  it("answers a launch without a form body with 400, not 500", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const res = await app.request("/lti/launch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(400);
  });
});

describe("the LMS answering a login with an error (OIDC Core §3.1.2.6)", () => {
  const lure = "Your account is locked. Sign in again at https://evil.example/relogin";

  it("quotes the LMS's words for a login this browser started, and offers to launch again", async () => {
    const { app, auth, setCookie } = await beginLaunch();
    const state = auth.searchParams.get("state") ?? "";
    const cookie = setCookie.split(";")[0] ?? "";
    const fields = { error: "login_required", error_description: "Your Moodle session ended.", state };
    const page = await app.request("/lti/launch", form(fields, { cookie }));
    expect(page.status).toBe(400);
    const html = await page.text();
    expect(html).toContain("Your LMS refused the launch (login_required: Your Moodle session ended.)");
    expect(html).toContain("Go back to your course and open the activity again.");
    const problem = await app.request(
      "/lti/launch",
      form(fields, { cookie, accept: "application/problem+json" }),
    );
    expect(await problem.json()).toMatchObject({ type: `${PROBLEM_BASE}lti.platform_error` });
  });

  it.each([
    ["without a state", (_state: string, _cookie: string) => ({ fields: {}, cookie: undefined })],
    [
      "with the state but not the browser's cookie",
      (state: string) => ({ fields: { state }, cookie: undefined }),
    ],
    [
      "with a state the tool never sealed",
      (_state: string, cookie: string) => ({ fields: { state: "forged" }, cookie }),
    ],
  ])("quotes no text another site posted %s: only a code OIDC defines", async (_name, variant) => {
    const { app, auth, setCookie } = await beginLaunch();
    const v = variant(auth.searchParams.get("state") ?? "", setCookie.split(";")[0] ?? "");
    const post = (error: string) =>
      app.request(
        "/lti/launch",
        form({ error, error_description: lure, ...v.fields }, v.cookie ? { cookie: v.cookie } : {}),
      );
    const known = await post("login_required");
    expect(known.status).toBe(400);
    const knownPage = await known.text();
    expect(knownPage).toContain("Your LMS refused the launch (login_required).");
    expect(knownPage).not.toContain("evil.example");
    const made = await (await post("Call 0800 000 000 to unlock your account")).text();
    expect(made).toContain("Your LMS refused the launch.");
    expect(made).not.toContain("0800");
    expect(made).not.toContain("evil.example");
  });
});

describe("sessions and API errors", () => {
  it("answers /app without a session in problem+json for JSON clients", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const res = await app.request("/app", { headers: { accept: "application/json" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = await res.json();
    expect(body).toMatchObject({ status: 401, type: "https://hlta.tool/problems/session.invalid" });
    expect(body.reference).toMatch(/^[0-9a-f]{8}$/);
    // RFC 9110 §11.6.1: a 401 says how to authenticate; the session token goes as a Bearer token.
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="hlta", error="invalid_token"');
    expect(res.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
  });

  it("asks browsers for https only on every answer, pages, redirects and errors alike", async () => {
    const { app, response } = await launch();
    const page = await app.request(response.headers.get("location") ?? "");
    for (const res of [response, page, await app.request("/health"), await app.request("/nowhere")]) {
      expect(res.headers.get("strict-transport-security"), String(res.status)).toBe(
        "max-age=31536000; includeSubDomains",
      );
    }
  });

  it("refuses a tampered session token", async () => {
    const { app, response } = await launch();
    const location = response.headers.get("location") ?? "";
    const res = await app.request(`${location.slice(0, -3)}abc`);
    expect(res.status).toBe(401);
  });

  it("accepts the session as a Bearer header", async () => {
    const { app, response } = await launch();
    const token = decodeURIComponent((response.headers.get("location") ?? "").split("s=")[1] ?? "");
    const res = await app.request("/app", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
  });

  it("answers a page's address written with percent-escapes as that page: HTML for a browser", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const res = await app.request("/%61pp");
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("says that the launch and deep linking addresses take launches only, when opened in a browser", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    for (const [method, path] of [
      ["GET", "/lti/launch"],
      ["GET", "/lti/deep-link"],
      ["POST", "/lti/deep-link"],
    ] as const) {
      const page = await app.request(path, { method });
      expect(page.status, path).toBe(400);
      expect(await page.text()).toContain("receives launches from your LMS");
      const json = await app.request(path, { method, headers: { accept: "application/json" } });
      expect((await json.json()).type).toBe(`${PROBLEM_BASE}lti.invalid_launch_request`);
    }
  });

  it("answers unknown paths with 404 problem+json", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const res = await app.request("/nope", { headers: { accept: "application/json" } });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });
});

describe("tool keys", () => {
  it("publishes the public key with a stable kid and no private members", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const first = await (await app.request("/.well-known/jwks.json")).json();
    const second = await (await app.request("/.well-known/jwks.json")).json();
    expect(first.keys).toHaveLength(1);
    expect(first.keys[0].kid).toBe(second.keys[0].kid);
    expect(first.keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" });
    for (const member of ["d", "p", "q", "dp", "dq", "qi"]) expect(first.keys[0]).not.toHaveProperty(member);
  });

  it("publishes both keys during a rotation, with a cache lifetime shorter than the rotation's lead", async () => {
    const p = await testPlatform();
    const { app, signer } = await memoryApp(p);
    const before = await (await app.request("/.well-known/jwks.json")).json();
    const { current } = await signer.rotate();
    const res = await app.request("/.well-known/jwks.json");
    const after = await res.json();
    expect(after.keys.map((k: { kid: string }) => k.kid).sort()).toEqual(
      [before.keys[0]?.kid, current.kid].sort(),
    );
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get("cache-control") ?? "")?.[1]);
    expect(maxAge * 1000).toBeGreaterThan(0);
    expect(maxAge * 1000).toBeLessThan(ROTATION_LEAD_MS);
  });
});
