import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { Localised } from "../../../functions/web/views/localised.js";
import { CLAIM } from "../../../lti-tool/claims.js";
import { beginLaunch, form, launch, loginFields } from "../../support/app-launch.js";
import { memoryApp } from "../../support/memory-app.js";
import { deepLinkingClaims, sign, testPlatform, validClaims } from "../../support/test-platform.js";
import { xapiAdminPage } from "../statements/fakes.js";

/** The next step an error page gives (its `data-next-step`), or undefined if it gives none. */
const nextStepOf = (html: string) => /data-next-step="([a-z-]+)"/.exec(html)?.[1];

describe("error pages say what the person can do next", () => {
  it("sends a candidate back to their course when the launch was reloaded, sent again or took too long", async () => {
    const started = await beginLaunch();
    const idToken = await sign(
      validClaims(started.auth.searchParams.get("nonce") ?? ""),
      started.p.signingKey,
    );
    expect((await started.post(idToken)).status).toBe(303);
    // The same form post again, as a browser's reload or back button sends it.
    expect(nextStepOf(await (await started.post(idToken)).text())).toBe("relaunch");

    const expired = await launch((c) => {
      c.exp = Math.floor(Date.now() / 1000) - 3600;
      c.iat = Math.floor(Date.now() / 1000) - 3660;
    });
    expect(nextStepOf(await expired.response.text())).toBe("relaunch");

    const noCookie = await launch(undefined, { dropCookie: true });
    expect(noCookie.response.status).toBe(401);
    const html = await noCookie.response.text();
    expect(nextStepOf(html)).toBe("relaunch");
    // It does not send them to a new window it gives no way to open.
    expect(html).not.toContain("new window to continue");
  });

  it("tells a candidate that the LMS's set-up is not their doing, and to pass the reference on", async () => {
    const deployment = await launch((c) => (c[CLAIM.deploymentId] = "3"));
    const html = await deployment.response.text();
    expect(nextStepOf(html)).toBe("administrator");
    expect(html).toMatch(/Reference: <code>[0-9a-f]{8}<\/code>/);

    const { app } = await memoryApp(await testPlatform());
    const unknown = await app.request("/lti/login", form({ ...loginFields, iss: "https://unknown.test" }));
    expect(nextStepOf(await unknown.text())).toBe("administrator");
  });

  it("asks to try again later when the tool itself failed, and words a damaged launch without jargon", async () => {
    const failing = await launch(undefined, {
      deps: () => {
        return {
          launches: {
            recordLaunch: async () => {
              throw new Error("DynamoDB is unavailable");
            },
          },
        };
      },
    });
    expect(failing.response.status).toBe(500);
    expect(nextStepOf(await failing.response.text())).toBe("retry-later");

    const damaged = await launch();
    const page = await (await damaged.post("not-a-token")).text();
    expect(nextStepOf(page)).toBe("administrator");
    for (const jargon of ["JWT", "kid", "azp", "claims"]) expect(page).not.toContain(jargon);
  });

  it("offers the sign-in page as a link when an administrator's sign-in has ended", async () => {
    const { app } = await memoryApp(await testPlatform());
    const res = await app.request("/admin/platforms?s=expired");
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/<a class="button" href="\/admin">Sign in<\/a>/);
  });
});

describe("language of the pages", () => {
  it("marks a page English while its words are English, even for a Welsh launch", async () => {
    const { response, app } = await launch((c) => {
      c[CLAIM.launchPresentation] = { locale: "cy" };
    });
    const page = await (await app.request(response.headers.get("location") ?? "")).text();
    expect(page).toContain("Your HLTA preparation");
    // Standards mode: without a doctype a browser lays the page out in quirks mode.
    expect(page.startsWith('<!DOCTYPE html><html lang="en-GB">')).toBe(true);
    expect(page).not.toContain('lang="cy"');
  });

  it("does the same for a tutor's cohort page from a Welsh launch, and keeps the course's own title", async () => {
    const { response, app } = await launch((c) => {
      c[CLAIM.launchPresentation] = { locale: "cy-GB" };
      c[CLAIM.roles] = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"];
      c[CLAIM.context] = { id: "course-cy", title: "Cwrs CALU" };
    });
    const page = await (await app.request(response.headers.get("location") ?? "")).text();
    expect(page).toContain("Your HLTA cohort: Cwrs CALU");
    expect(page.startsWith('<!DOCTYPE html><html lang="en-GB">')).toBe(true);
    expect(page).not.toMatch(/lang="cy/);
  });

  it("marks a Welsh text from the data as Welsh, and leaves an English one unmarked", () => {
    const text = { en: "high expectations", cy: "disgwyliadau uchel" };
    expect(String(<Localised text={text} locale="cy" />)).toBe('<span lang="cy">disgwyliadau uchel</span>');
    expect(String(<Localised text={text} locale="en-GB" />)).toBe("high expectations");
    expect(String(<Localised text={{ en: "only English" }} locale="cy" />)).toBe("only English");
  });
});

describe("the deep-linking picker", () => {
  it("shows the picker again, with the reason tied to the list, when nothing was chosen", async () => {
    const { response, app } = await launch(deepLinkingClaims);
    const picker = await response.text();
    const dl = /name="dl" value="([^"]+)"/.exec(picker)?.[1] ?? "";
    expect(dl).not.toBe("");
    for (const activity of [undefined, "no-such-activity"]) {
      const res = await app.request(
        "/lti/deep-link/respond",
        form({ dl: dl.replaceAll("&amp;", "&"), ...(activity ? { activity } : {}) }),
      );
      expect(res.status).toBe(400);
      const again = await res.text();
      expect(again).toContain(`name="dl" value="${dl}"`);
      expect(again).toContain('id="activity-error" role="alert"');
      expect(again).toContain('<fieldset aria-describedby="activity-error">');
      expect(again).toContain('value="module-standards"');
    }
  });
});

describe("administration pages", () => {
  it("link to each other from every page, the xAPI delivery page included, and name each Remove button", async () => {
    const { app, adminToken } = await memoryApp(await testPlatform(), { adminApps: [xapiAdminPage()] });
    const s = await adminToken();
    const q = `?s=${encodeURIComponent(s)}`.replaceAll("&", "&amp;");
    // Each page says when the sign-in ends: the token's own expiry, as a time of day.
    const until = new Date((decodeJwt(s).exp ?? 0) * 1000).toISOString().slice(11, 16);
    for (const page of ["platforms", "links", "grades", "xapi"]) {
      const html = await (await app.request(`/admin/${page}?s=${encodeURIComponent(s)}`)).text();
      expect(html, page).toContain(`Signed in until ${until} UTC`);
      for (const other of ["platforms", "links", "grades", "xapi"]) {
        expect(html, `${page} → ${other}`).toContain(
          `href="/admin/${other}${q}"${other === page ? ' aria-current="page"' : ""}>`,
        );
      }
    }
    const created = await app.request(
      `/admin/links?s=${encodeURIComponent(s)}`,
      form({ note: "St Mary's Moodle" }),
    );
    expect(await created.text()).toContain('aria-label="Remove the link for St Mary&#39;s Moodle"');
  });
});
