import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ACTIVITIES } from "../../../domain/activities.js";
import { contentSecurityPolicy } from "../../../functions/web/views/inline.js";
import {
  ActivityPickerPage,
  AutoPostPage,
  RegistrationConfirmPage,
  RegistrationDonePage,
} from "../../../functions/web/views/lti-pages.js";
import { CLAIM } from "../../../lti-tool/claims.js";
import { form, launch, loginFields } from "../../support/app-launch.js";
import { memoryApp } from "../../support/memory-app.js";
import { sign, testPlatform, validClaims } from "../../support/test-platform.js";
import { body, pendingEntry, xapiAdminPage } from "../statements/fakes.js";

const STATEMENT = "5b1d2c3e-0000-5000-8000-000000000001";

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/** The sources a directive of `policy` allows. */
function sources(policy: string, directive: string): string[] {
  const found = policy
    .split(";")
    .map((d) => d.trim().split(/\s+/))
    .find(([name]) => name === directive);
  return found?.slice(1) ?? [];
}

/**
 * Everything in `html` that the browser would run or apply under `policy`: each script it
 * executes (not a JSON data block) and each style sheet must be listed by hash; no inline
 * handlers or style attributes, which hashes cannot allow. Returns what would be blocked.
 */
function blockedBy(policy: string, html: string): string[] {
  const blocked: string[] = [];
  for (const [, attrs = "", text = ""] of html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
    if (/type="application\/json"/.test(attrs)) continue;
    if (!sources(policy, "script-src").includes(sha256(text))) blocked.push(`script: ${text.slice(0, 60)}`);
  }
  for (const [, text = ""] of html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/g)) {
    if (!sources(policy, "style-src").includes(sha256(text))) blocked.push(`style: ${text.slice(0, 60)}`);
  }
  for (const [attribute] of html.matchAll(/\s(on[a-z]+|style)="[^"]*"/g))
    blocked.push(`attribute:${attribute}`);
  return blocked;
}

async function checked(response: Response) {
  const policy = response.headers.get("content-security-policy") ?? "";
  const html = await response.text();
  expect(response.headers.get("content-type")).toMatch(/^text\/html/);
  expect(sources(policy, "default-src")).toEqual(["'none'"]);
  expect(blockedBy(policy, html)).toEqual([]);
  return html;
}

describe("content security policy on the tool's pages", () => {
  it("lets the first page's styles apply and nothing else run", async () => {
    const { response, app } = await launch();
    const page = await app.request(response.headers.get("location") ?? "");
    const html = await checked(page);
    expect(html).toContain("<h1>");
    expect(sources(page.headers.get("content-security-policy") ?? "", "object-src")).toEqual(["'none'"]);
    expect(sources(page.headers.get("content-security-policy") ?? "", "base-uri")).toEqual(["'none'"]);
  });

  it("keeps the style sheet's quotes as written (an escaped quote voids the font declaration)", async () => {
    const { response, app } = await launch();
    const html = await (await app.request(response.headers.get("location") ?? "")).text();
    expect(html).toContain('"Segoe UI"');
    expect(html).not.toContain("&quot;Segoe UI&quot;");
  });

  it("runs the Platform Storage scripts of login and launch, with their settings as data", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const login = await app.request("/lti/login", form({ ...loginFields, lti_storage_target: "_parent" }));
    const put = await checked(login);
    expect(put).toContain("lti.put_data");
    const config = /<script type="application\/json" id="config">([^<]*)<\/script>/.exec(put)?.[1] ?? "{}";
    const authUrl = new URL((JSON.parse(config) as { authUrl: string }).authUrl);
    const idToken = await sign(validClaims(authUrl.searchParams.get("nonce") ?? ""), p.signingKey);
    const launchPage = await app.request(
      "/lti/launch",
      form({ id_token: idToken, state: authUrl.searchParams.get("state") ?? "" }),
    );
    expect(await checked(launchPage)).toContain("lti.get_data");
  });

  it("puts the policy on error pages too, and not on JSON answers", async () => {
    const p = await testPlatform();
    const { app } = await memoryApp(p);
    const refused = await app.request("/lti/login", form({ ...loginFields, iss: "https://unknown.test" }));
    expect(refused.status).toBe(400);
    await checked(refused);
    const json = await app.request("/.well-known/jwks.json");
    expect(json.headers.get("content-security-policy")).toBeNull();
  });

  it("gives an address no route has the same headers as every answer, as a page or as JSON", async () => {
    const { app, adminToken } = await memoryApp(await testPlatform());
    const s = encodeURIComponent(await adminToken());
    for (const path of ["/nope", `/admin/platforms/?s=${s}`, "/lti/nope"]) {
      const page = await app.request(path, { headers: { accept: "text/html" } });
      expect(page.status, path).toBe(404);
      expect(page.headers.get("referrer-policy"), path).toBe("no-referrer");
      expect(page.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(page.headers.get("cache-control"), path).toBe("no-store");
      await checked(page);
      const json = await app.request(path, { headers: { accept: "application/problem+json" } });
      expect(json.status, path).toBe(404);
      expect(json.headers.get("referrer-policy"), path).toBe("no-referrer");
      expect(json.headers.get("content-security-policy"), path).toBeNull();
    }
  });

  it("lets any LMS frame the tool's pages, and no site frame the administration pages", async () => {
    const { app, adminToken } = await memoryApp(await testPlatform());
    const s = encodeURIComponent(await adminToken());
    for (const path of ["/admin", `/admin/platforms?s=${s}`, `/admin/nope?s=${s}`]) {
      const res = await app.request(path, { headers: { accept: "text/html" } });
      expect(sources(res.headers.get("content-security-policy") ?? "", "frame-ancestors"), path).toEqual([
        "'none'",
      ]);
    }
    const refused = await app.request("/lti/login", form({ ...loginFields, iss: "https://unknown.test" }));
    expect(refused.headers.get("content-security-policy")).not.toContain("frame-ancestors");
    const tutor = await launch((c) => {
      c[CLAIM.roles] = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"];
    });
    const cohort = await tutor.app.request(tutor.response.headers.get("location") ?? "");
    expect(cohort.headers.get("content-security-policy")).not.toContain("frame-ancestors");
  });

  it("allows the fixed scripts of the deep-linking return and the registration's Finish button", () => {
    const policy = contentSecurityPolicy();
    const autopost = String(
      <AutoPostPage title="Returning" action="https://lms.test/return" fields={{ JWT: "x" }} message="…" />,
    );
    const done = String(
      <RegistrationDonePage issuer="https://lms.test" clientId="c1" deploymentId="1" pending={false} />,
    );
    expect(blockedBy(policy, autopost)).toEqual([]);
    expect(blockedBy(policy, done)).toEqual([]);
    expect(autopost).toContain("<script>");
    expect(done).toContain("<script>");
  });

  it("puts the tutor's cohort page and every admin page under the policy", async () => {
    const tutor = await launch((c) => {
      c[CLAIM.roles] = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"];
    });
    const cohort = await checked(await tutor.app.request(tutor.response.headers.get("location") ?? ""));
    expect(cohort).toContain("cohort");
    // The xAPI delivery page with a parked statement and the LRS's answer (its <pre> was styled inline).
    const parked = { ...pendingEntry(STATEMENT, body(STATEMENT)), status: "parked" as const };
    const { app, adminToken } = await memoryApp(await testPlatform(), {
      adminApps: [
        xapiAdminPage({
          backlog: async () => ({ pending: 0, delivered: 0, parked: 1, capped: false }),
          listParked: async () => [
            {
              ...parked,
              parked: { reason: "invalid", lrsStatus: 400, lrsBody: "{}", parkedAt: parked.createdAt },
            },
          ],
        }),
      ],
    });
    const s = await adminToken();
    await checked(await app.request("/admin"));
    for (const page of ["/admin/platforms", "/admin/links", "/admin/grades", "/admin/xapi"]) {
      const res = await app.request(`${page}?s=${encodeURIComponent(s)}`);
      expect(res.status, page).toBe(200);
      const html = await checked(res);
      if (page === "/admin/xapi") expect(html).toContain('<pre class="wrap">');
    }
    await checked(await app.request(`/admin/links?s=${encodeURIComponent(s)}`, form({ note: "a school" })));
  });

  it("puts the deep-linking picker and the registration confirmation under the policy", async () => {
    const policy = contentSecurityPolicy();
    const picker = String(
      <ActivityPickerPage
        activities={ACTIVITIES}
        sealed="x"
        action="https://tool.test/lti/deep-link/respond"
        multiple
      />,
    );
    const confirm = String(
      <RegistrationConfirmPage
        action="https://tool.test/lti/register/x"
        fields={{ a: "b" }}
        platformHost="lms.test"
      />,
    );
    expect(blockedBy(policy, picker)).toEqual([]);
    expect(blockedBy(policy, confirm)).toEqual([]);
  });

  it("would refuse a script it does not know (the check can fail)", () => {
    expect(blockedBy(contentSecurityPolicy(), "<script>alert(1)</script>")).toHaveLength(1);
    expect(blockedBy(contentSecurityPolicy(), '<p style="color:red" onclick="x()">')).toHaveLength(2);
  });
});
