import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { PROBLEM_BASE } from "../../../domain/errors.js";
import { sha256b64url } from "../../../lti-tool/crypto.js";
import { PlatformJwksCache } from "../../../lti-tool/platform-jwks.js";
import { form, registrationLinkPath } from "../../support/app-launch.js";
import { memoryApp } from "../../support/memory-app.js";
import { MemoryPlatformKeyStore } from "../../support/memory-stores.js";
import { CONFIG_URL, REGISTERING_LMS, registeringLms } from "../../support/registering-lms.js";
import { CLIENT_ID, testPlatform } from "../../support/test-platform.js";

const PROBLEM_JSON = { accept: "application/problem+json" };

/** The "Save again" form of the page shown when the tool could not save a registration. */
function savedForm(html: string) {
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1] ?? "";
  const saved = /name="saved" value="([^"]+)"/.exec(html)?.[1] ?? "";
  expect(action).not.toBe("");
  expect(saved).not.toBe("");
  return { action, saved };
}

async function appWithLms(clientId = "new-client") {
  const lms = registeringLms(clientId);
  const built = await memoryApp(await testPlatform(), { fetch: lms.fetchImpl });
  return { ...built, lms };
}

describe("dynamic registration by invitation", () => {
  it("refuses the registration page without a link, in plain words, asking nothing of the LMS", async () => {
    const { app, lms } = await appWithLms();
    const page = await app.request(`/lti/register?openid_configuration=${encodeURIComponent(CONFIG_URL)}`);
    expect(page.status).toBe(403);
    expect(await page.text()).toContain("registered by invitation");
    const post = await app.request("/lti/register", form({ openid_configuration: CONFIG_URL }, PROBLEM_JSON));
    expect(post.status).toBe(403);
    expect((await post.json()).type).toBe(`${PROBLEM_BASE}lti.registration_link_required`);
    expect(lms.calls).toEqual([]);
  });

  it("refuses a link it never made, or one that expired, before asking the LMS anything", async () => {
    const { app, deps, lms } = await appWithLms();
    const made = await registrationLinkPath(deps);
    const expired = made.split("/").pop() ?? "";
    const link = await deps.registrationLinks.get(sha256b64url(expired));
    if (!link) throw new Error("the link was not saved");
    await deps.registrationLinks.save({ ...link, expiresAt: Math.floor(Date.now() / 1000) - 1 });
    for (const path of [`/lti/register/${"x".repeat(43)}`, "/lti/register/short", made]) {
      const res = await app.request(path, form({ openid_configuration: CONFIG_URL }, PROBLEM_JSON));
      expect(res.status).toBe(403);
      expect((await res.json()).type).toBe(`${PROBLEM_BASE}lti.registration_link_invalid`);
    }
    expect(lms.calls).toEqual([]);
  });

  it("says what is wrong with the LMS's configuration address, and takes an empty registration token as none", async () => {
    const { app, deps, lms } = await appWithLms();
    const link = await registrationLinkPath(deps);
    for (const address of [
      "http://moodle.school.org/mod/lti/openid-configuration.php",
      "https://10.0.0.5/x",
    ]) {
      const query = `?openid_configuration=${encodeURIComponent(address)}`;
      const page = await app.request(`${link}${query}`);
      expect(page.status, address).toBe(400);
      const said = await page.text();
      expect(said, address).toContain("configuration address the tool may not use");
      expect(said, address).not.toContain("Open this page from your LMS");
      const post = await app.request(link, form({ openid_configuration: address }, PROBLEM_JSON));
      expect(post.status, address).toBe(400);
      expect((await post.json()).issues.map((i: { path: string }) => i.path)).toEqual([
        "openid_configuration",
      ]);
    }
    const missing = await app.request(link);
    expect(await missing.text()).toContain("Open this page from your LMS");
    const noToken = await app.request(
      `${link}?openid_configuration=${encodeURIComponent(CONFIG_URL)}&registration_token=`,
    );
    expect(noToken.status).toBe(200);
    expect(await noToken.text()).not.toContain('name="registration_token"');
    expect(lms.calls).toEqual([]);
  });

  it("registers one LMS with a link, which is then spent and says by whom", async () => {
    const { app, deps } = await appWithLms();
    const link = await registrationLinkPath(deps, "St Mary's Moodle");
    const done = await app.request(link, form({ openid_configuration: CONFIG_URL }));
    expect(done.status).toBe(200);
    expect(await deps.registrations.getPlatform(REGISTERING_LMS, "new-client")).toBeDefined();
    const again = await app.request(link, form({ openid_configuration: CONFIG_URL }));
    expect(again.status).toBe(403);
    expect(await again.text()).toContain("already been used");
    const [listed] = await deps.registrationLinks.list(Math.floor(Date.now() / 1000));
    expect(listed).toMatchObject({
      note: "St Mary's Moodle",
      usedBy: { issuer: REGISTERING_LMS, clientId: "new-client" },
    });
  });

  it("keeps the link when the registration fails, so the LMS administrator can try again", async () => {
    const { app, deps } = await appWithLms();
    const link = await registrationLinkPath(deps);
    const failed = await app.request(link, form({ openid_configuration: `${REGISTERING_LMS}/elsewhere` }));
    expect(failed.status).toBe(502);
    const retried = await app.request(link, form({ openid_configuration: CONFIG_URL }));
    expect(retried.status).toBe(200);
  });
});

describe("the LMS's keys, checked at registration", () => {
  async function registerWith(jwks?: { keys: unknown[] }) {
    const lms = registeringLms("keys-client", jwks ? { jwks } : {});
    const shared = new MemoryPlatformKeyStore();
    const { app, deps } = await memoryApp(await testPlatform(), {
      fetch: lms.fetchImpl,
      platformKeys: new PlatformJwksCache({ fetch: lms.fetchImpl, shared }),
    });
    const done = await app.request(
      await registrationLinkPath(deps),
      form({ openid_configuration: CONFIG_URL }),
    );
    return { done, html: await done.text(), deps, shared };
  }

  it("fetches them once the LMS is registered and keeps them for the tool's launches", async () => {
    const { publicKey } = await generateKeyPair("RS256", { extractable: true });
    const key = { ...(await exportJWK(publicKey)), kid: "lms-1", use: "sig" };
    const { done, html, shared } = await registerWith({ keys: [key] });
    expect(done.status).toBe(200);
    expect(html).not.toContain('id="keys-problem"');
    expect(shared.entries.get(`${REGISTERING_LMS}/jwks`)?.jwks.keys).toEqual([key]);
  });

  it("keeps the registration and tells the LMS administrator when they cannot be fetched", async () => {
    const { done, html, deps, shared } = await registerWith();
    expect(done.status).toBe(200);
    expect(await deps.registrations.getPlatform(REGISTERING_LMS, "keys-client")).toBeDefined();
    expect(html).toContain('id="keys-problem"');
    expect(html).toContain(`${REGISTERING_LMS}/jwks`);
    expect(shared.entries.size).toBe(0);
  });
});

describe("a registration link under pressure", () => {
  it("registers one LMS when several registrations race on one link", async () => {
    let answer: () => void = () => {};
    const slow = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const lms = registeringLms("raced-client");
    // The LMS takes its time over the registration, as a hostile one may.
    const fetchImpl: typeof fetch = async (input, init) => {
      if (String(input).endsWith("/register")) await slow;
      return lms.fetchImpl(input, init);
    };
    const { app, deps } = await memoryApp(await testPlatform(), { fetch: fetchImpl });
    const link = await registrationLinkPath(deps);
    const racing = Array.from({ length: 4 }, () =>
      app.request(link, form({ openid_configuration: CONFIG_URL })),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    answer();
    const statuses = (await Promise.all(racing)).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 403, 403, 403]);
    expect(lms.calls.filter((u) => u.endsWith("/register"))).toHaveLength(1);
  });

  it("spends the link once the LMS holds a registration, even when the tool's side then fails", async () => {
    const school = await testPlatform();
    // The LMS answers with a client id another LMS has: the LMS registered, the tool refuses.
    const { app, deps } = await memoryApp(school, { fetch: registeringLms(CLIENT_ID).fetchImpl });
    const link = await registrationLinkPath(deps);
    expect((await app.request(link, form({ openid_configuration: CONFIG_URL }))).status).toBe(409);
    const again = await app.request(link, form({ openid_configuration: CONFIG_URL }));
    expect(again.status).toBe(403);
    expect(await again.text()).toContain("already been used");
  });

  it("keeps the LMS's answer when the tool cannot save its side, and saves it from the page", async () => {
    const { app, deps, lms } = await appWithLms("client-s");
    const link = await registrationLinkPath(deps);
    const savePlatform = deps.registrations.savePlatform.bind(deps.registrations);
    deps.registrations.savePlatform = async () => {
      throw new Error("DynamoDB is unwell");
    };
    const failed = await app.request(link, form({ openid_configuration: CONFIG_URL }));
    expect(failed.status).toBe(503);
    const page = savedForm(await failed.text());
    expect(page.action).toBe(`https://tool.test${link}/save`);
    expect(await deps.registrations.getPlatform(REGISTERING_LMS, "client-s")).toBeUndefined();
    // The link is spent (the LMS holds a registration), and a save that fails again keeps the page.
    expect((await app.request(link, form({ openid_configuration: CONFIG_URL }))).status).toBe(403);
    const stillFailing = await app.request(`${link}/save`, form({ saved: page.saved }));
    expect(stillFailing.status).toBe(503);
    deps.registrations.savePlatform = savePlatform;
    const saved = await app.request(
      `${link}/save`,
      form({ saved: savedForm(await stillFailing.text()).saved }),
    );
    expect(saved.status).toBe(200);
    expect(await saved.text()).toContain("is registered");
    expect(await deps.registrations.getPlatform(REGISTERING_LMS, "client-s")).toMatchObject({
      jwksUrl: `${REGISTERING_LMS}/jwks`,
    });
    // Asked once: saving again never registers a second tool in the LMS.
    expect(lms.calls.filter((u) => u.endsWith("/register"))).toHaveLength(1);
  });

  it("saves again only from its own page, for the link that page was for, within a day", async () => {
    const { app, deps } = await appWithLms("client-t");
    const link = await registrationLinkPath(deps);
    const other = await registrationLinkPath(deps);
    // Used within its last hour.
    const made = await deps.registrationLinks.get(sha256b64url(link.split("/").pop() ?? ""));
    if (!made) throw new Error("the link was not saved");
    await deps.registrationLinks.save({ ...made, expiresAt: Math.floor(Date.now() / 1000) + 3600 });
    const savePlatform = deps.registrations.savePlatform.bind(deps.registrations);
    deps.registrations.savePlatform = async () => {
      throw new Error("DynamoDB is unwell");
    };
    const { saved } = savedForm(
      await (await app.request(link, form({ openid_configuration: CONFIG_URL }))).text(),
    );
    deps.registrations.savePlatform = savePlatform;
    const refusals: [string, Record<string, string>, string][] = [
      [`${link}/save`, { saved: `${saved.slice(0, -2)}xx` }, "validation"],
      [`${link}/save`, {}, "validation"],
      [`${other}/save`, { saved }, "validation"],
      [`/lti/register/${"x".repeat(43)}/save`, { saved }, "validation"],
    ];
    for (const [path, fields, code] of refusals) {
      const res = await app.request(path, form(fields, PROBLEM_JSON));
      expect(res.status, path).toBe(400);
      expect((await res.json()).type).toBe(`${PROBLEM_BASE}${code}`);
    }
    // The link spent by another LMS since (an administrator's repair by hand): not this page's.
    const id = sha256b64url(link.split("/").pop() ?? "");
    const spent = await deps.registrationLinks.get(id);
    if (!spent) throw new Error("the link was not saved");
    await deps.registrationLinks.save({ ...spent, usedBy: { issuer: REGISTERING_LMS, clientId: "another" } });
    const taken = await app.request(`${link}/save`, form({ saved }, PROBLEM_JSON));
    expect(taken.status).toBe(403);
    await deps.registrationLinks.save(spent);
    // The link would have expired within the hour: its use keeps it for the page's day.
    const nearEnd = await deps.registrationLinks.get(id);
    if (!nearEnd) throw new Error("the link was not kept");
    expect(nearEnd.expiresAt).toBeGreaterThan(Math.floor(Date.now() / 1000) + 24 * 3600);
    // A day later the page has expired.
    deps.now = () => new Date(Date.now() + 24 * 3600 * 1000 + 60_000);
    expect((await app.request(`${link}/save`, form({ saved }))).status).toBe(400);
    deps.now = undefined;
    expect(await deps.registrations.getPlatform(REGISTERING_LMS, "client-t")).toBeUndefined();
    expect((await app.request(`${link}/save`, form({ saved }))).status).toBe(200);
  });

  it("never moves a registered LMS to other addresses: its issuer and client id are not secret", async () => {
    const { app, deps } = await appWithLms("client-v");
    expect(
      (await app.request(await registrationLinkPath(deps), form({ openid_configuration: CONFIG_URL })))
        .status,
    ).toBe(200);
    const before = await deps.registrations.getPlatform(REGISTERING_LMS, "client-v");
    // Someone with another link serves a configuration naming the same issuer from the same host,
    // with their own keys, and answers with the same client id.
    const hostile = registeringLms("client-v", { endpointsUnder: "/uploads/evil" });
    const attacker = await memoryApp(await testPlatform(), {
      fetch: hostile.fetchImpl,
      registrations: deps.registrations,
      registrationLinks: deps.registrationLinks,
    });
    const refused = await attacker.app.request(
      await registrationLinkPath(deps),
      form({ openid_configuration: CONFIG_URL }, PROBLEM_JSON),
    );
    expect(refused.status).toBe(409);
    expect((await refused.json()).type).toBe(`${PROBLEM_BASE}lti.platform_already_registered`);
    expect(await deps.registrations.getPlatform(REGISTERING_LMS, "client-v")).toEqual(before);
    // The same LMS registering again at its own addresses is not refused.
    const again = await app.request(
      await registrationLinkPath(deps),
      form({ openid_configuration: CONFIG_URL }),
    );
    expect(again.status).toBe(200);
  });

  it("keeps the LMS's answer when even spending the link fails, and spends it from the page", async () => {
    const { app, deps, lms } = await appWithLms("client-x");
    const link = await registrationLinkPath(deps);
    const markUsed = deps.registrationLinks.markUsed.bind(deps.registrationLinks);
    deps.registrationLinks.markUsed = async () => {
      throw new Error("DynamoDB is unwell");
    };
    const failed = await app.request(link, form({ openid_configuration: CONFIG_URL }));
    expect(failed.status).toBe(503);
    const { saved } = savedForm(await failed.text());
    expect(await deps.registrations.getPlatform(REGISTERING_LMS, "client-x")).toBeUndefined();
    deps.registrationLinks.markUsed = markUsed;
    const done = await app.request(`${link}/save`, form({ saved }));
    expect(done.status).toBe(200);
    expect(await deps.registrations.getPlatform(REGISTERING_LMS, "client-x")).toBeDefined();
    const [spent] = await deps.registrationLinks.list(Math.floor(Date.now() / 1000));
    expect(spent?.usedBy).toEqual({ issuer: REGISTERING_LMS, clientId: "client-x" });
    // Asked once: the LMS holds one tool.
    expect(lms.calls.filter((u) => u.endsWith("/register"))).toHaveLength(1);
  });

  it("does not spend a link from the page when another registration spent it meanwhile", async () => {
    const { app, deps } = await appWithLms("client-y");
    const link = await registrationLinkPath(deps);
    const markUsed = deps.registrationLinks.markUsed.bind(deps.registrationLinks);
    deps.registrationLinks.markUsed = async () => {
      throw new Error("DynamoDB is unwell");
    };
    const { saved } = savedForm(
      await (await app.request(link, form({ openid_configuration: CONFIG_URL }))).text(),
    );
    deps.registrationLinks.markUsed = markUsed;
    const id = sha256b64url(link.split("/").pop() ?? "");
    await deps.registrationLinks.markUsed(id, new Date().toISOString(), {
      issuer: REGISTERING_LMS,
      clientId: "someone-else",
    });
    const refused = await app.request(`${link}/save`, form({ saved }, PROBLEM_JSON));
    expect(refused.status).toBe(403);
    expect(await deps.registrations.getPlatform(REGISTERING_LMS, "client-y")).toBeUndefined();
  });

  it("never writes a usable link to the log, even when its registration fails and leaves it usable", async () => {
    const lines: string[] = [];
    const log = {
      info: (m: string, f?: Record<string, unknown>) => lines.push(JSON.stringify({ m, ...f })),
      warn: (m: string, f?: Record<string, unknown>) => lines.push(JSON.stringify({ m, ...f })),
      error: (m: string, f?: Record<string, unknown>) => lines.push(JSON.stringify({ m, ...f })),
    };
    const { app, deps } = await memoryApp(await testPlatform(), {
      fetch: registeringLms("c").fetchImpl,
      log,
    });
    const link = await registrationLinkPath(deps);
    const token = link.split("/").pop() ?? "";
    const failed = await app.request(link, form({ openid_configuration: `${REGISTERING_LMS}/elsewhere` }));
    expect(failed.status).toBe(502);
    // The same route reached with a percent-escaped path.
    const escaped = link.replace("/register/", "/%72egister/");
    const failedAgain = await app.request(
      escaped,
      form({ openid_configuration: `${REGISTERING_LMS}/elsewhere` }),
    );
    expect(failedAgain.status).toBe(502);
    expect(lines.filter((l) => l.includes("registration_config_unreachable"))).toHaveLength(2);
    expect(lines.join("\n")).toContain("/lti/register/");
    expect(lines.join("\n")).not.toContain(token);
    expect(lines.join("\n")).not.toContain(token.slice(0, 12));
  });
});

describe("registration links on the admin pages", () => {
  it("creates a link shown once, lists it by its note, and removes it", async () => {
    const { app, adminToken, deps } = await appWithLms();
    expect((await app.request("/admin/links", form({ note: "x" }))).status).toBe(401);
    const s = await adminToken();
    const created = await app.request(`/admin/links?s=${s}`, form({ note: "St Mary's Moodle", days: "30" }));
    expect(created.status).toBe(201);
    const html = await created.text();
    const url =
      /<code>(https:\/\/tool\.test\/lti\/register\/[A-Za-z0-9_-]{43})<\/code>/.exec(html)?.[1] ?? "";
    expect(url).not.toBe("");
    const [link] = await deps.registrationLinks.list(Math.floor(Date.now() / 1000));
    expect(link?.note).toBe("St Mary's Moodle");
    expect(link?.expiresAt).toBeGreaterThan(Math.floor(Date.now() / 1000) + 29 * 86_400);
    // The list never shows a usable link again: only the fingerprint is kept.
    const listPage = await (await app.request(`/admin/links?s=${s}`)).text();
    expect(listPage).toContain("St Mary&#39;s Moodle");
    expect(listPage).not.toContain(url.split("/").pop() ?? "");
    // The link works, until removed.
    expect((await app.request(new URL(url).pathname)).status).toBe(400); // no configuration address yet: but a valid link
    const removed = await app.request(`/admin/links/remove?s=${s}`, form({ id: link?.id ?? "" }));
    expect(removed.status).toBe(303);
    expect((await app.request(new URL(url).pathname)).status).toBe(403);
  });

  it("makes no second link when the page that made one is reloaded (its form sent again)", async () => {
    const { app, adminToken, deps } = await appWithLms();
    const s = await adminToken();
    const page = await (await app.request(`/admin/links?s=${s}`)).text();
    const request = /name="request" value="([A-Za-z0-9_-]+)"/.exec(page)?.[1] ?? "";
    expect(request).not.toBe("");
    const fields = { note: "St Mary's Moodle", days: "7", request };
    expect((await app.request(`/admin/links?s=${s}`, form(fields))).status).toBe(201);
    const again = await app.request(`/admin/links?s=${s}`, form(fields));
    expect(again.status).toBe(200);
    const said = await again.text();
    expect(said).toContain("This form was sent before");
    expect(said).not.toMatch(/\/lti\/register\/[A-Za-z0-9_-]{43}/);
    const nowSeconds = Math.floor(Date.now() / 1000);
    expect(await deps.registrationLinks.list(nowSeconds)).toHaveLength(1);
    // A form of a fresh page is a new request.
    const next = /name="request" value="([A-Za-z0-9_-]+)"/.exec(said)?.[1] ?? "";
    expect(next).not.toBe(request);
    expect((await app.request(`/admin/links?s=${s}`, form({ ...fields, request: next }))).status).toBe(201);
    expect(await deps.registrationLinks.list(nowSeconds)).toHaveLength(2);
  });

  it("makes one link when the form is sent twice at the same instant (a double click)", async () => {
    const { app, adminToken, deps } = await appWithLms();
    const s = await adminToken();
    const page = await (await app.request(`/admin/links?s=${s}`)).text();
    const request = /name="request" value="([A-Za-z0-9_-]+)"/.exec(page)?.[1] ?? "";
    const fields = { note: "St Mary's Moodle", days: "7", request };
    const answers = await Promise.all([1, 2, 3].map(() => app.request(`/admin/links?s=${s}`, form(fields))));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 201]);
    const shown = await Promise.all(answers.map((a) => a.text()));
    expect(shown.filter((html) => /\/lti\/register\/[A-Za-z0-9_-]{43}/.test(html))).toHaveLength(1);
    expect(shown.filter((html) => html.includes("This form was sent before"))).toHaveLength(2);
    expect(await deps.registrationLinks.list(Math.floor(Date.now() / 1000))).toHaveLength(1);
  });

  it("refuses a link without a note or with an impossible validity", async () => {
    const { app, adminToken } = await appWithLms();
    const s = await adminToken();
    const refused: Record<string, string>[] = [
      { note: "  " },
      { note: "x", days: "0" },
      { note: "x", days: "400" },
      { note: "x", days: "ten" },
    ];
    for (const fields of refused) {
      expect((await app.request(`/admin/links?s=${s}`, form(fields))).status).toBe(400);
    }
    expect((await app.request(`/admin/links?s=${s}`, form({ note: "x", days: "" }))).status).toBe(201);
  });
});
