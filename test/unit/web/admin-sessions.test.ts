import { describe, expect, it } from "vitest";
import { replaceAdminKey } from "../../../lti-tool/tool-keys.js";
import { form } from "../../support/app-launch.js";
import { memoryApp } from "../../support/memory-app.js";
import { testPlatform } from "../../support/test-platform.js";
import { xapiAdminPage } from "../statements/fakes.js";

const SIGNED_OUT = "Signed out. Every administration session that was open has ended.";

/** The app over memory stores on a clock the test moves (`clock.at`, epoch ms). */
async function adminApp(start = "2026-11-24T10:00:00.000Z") {
  const clock = { at: Date.parse(start) };
  const app = await memoryApp(await testPlatform(), {
    now: () => new Date(clock.at),
    adminApps: [xapiAdminPage()],
  });
  /** An admin session signed in at `clock.at`. */
  const signIn = async (key: Uint8Array = app.adminKey) => {
    const login = await app.app.request(
      "/admin/login",
      form({ key: Buffer.from(key).toString("base64url") }),
    );
    expect(login.status).toBe(303);
    return new URL(login.headers.get("location") ?? "", "https://tool.test").searchParams.get("s") ?? "";
  };
  const status = async (s: string, page = "platforms") =>
    (await app.app.request(`/admin/${page}?s=${encodeURIComponent(s)}`)).status;
  const signOut = (s: string) => app.app.request("/admin/sign-out", form({ s }));
  return { ...app, clock, signIn, status, signOut };
}

describe("signing out of the administration pages", () => {
  it("ends the session that signed out and every other one open, then shows the sign-in page", async () => {
    const { clock, signIn, status, signOut, app } = await adminApp();
    const mine = await signIn();
    clock.at += 60_000;
    const another = await signIn(); // another browser, the same key
    clock.at += 60_000;
    expect([await status(mine), await status(another)]).toEqual([200, 200]);

    const out = await signOut(mine);
    expect(out.status).toBe(200);
    const page = await out.text();
    expect(page).toContain(SIGNED_OUT);
    expect(page).toContain('<form method="post" action="/admin/login">');

    for (const s of [mine, another]) {
      for (const path of ["platforms", "links", "grades", "xapi"])
        expect(await status(s, path), path).toBe(401);
      // Actions too, not only pages.
      const post = await app.request(`/admin/links?s=${encodeURIComponent(s)}`, form({ note: "after" }));
      expect(post.status).toBe(401);
    }
    const refused = await (await app.request(`/admin/platforms?s=${encodeURIComponent(another)}`)).text();
    expect(refused).toMatch(/<a class="button" href="\/admin">Sign in<\/a>/);
    expect(refused).toContain("until someone signs out");

    clock.at += 60_000;
    expect(await status(await signIn())).toBe(200);
  });

  it("refuses a session issued in the same second as the sign-out, before it, and takes one issued after it", async () => {
    const { clock, signIn, status, signOut } = await adminApp("2026-11-24T10:00:00.200Z");
    const signingOut = await signIn();
    clock.at += 300; // 10:00:00.500
    const sameMillisecond = await signIn();
    expect(await status(sameMillisecond)).toBe(200);
    expect((await signOut(signingOut)).status).toBe(200);
    expect(await status(signingOut)).toBe(401);
    // Issued at 10:00:00.500 like the sign-out: ended with it (that instant included).
    expect(await status(sameMillisecond)).toBe(401);
    clock.at += 300; // 10:00:00.800: the same second (`iat`), but after the sign-out
    const after = await signIn();
    expect(await status(after)).toBe(200);
    clock.at += 1;
    expect(await status(after)).toBe(200);
  });

  it("ends nothing for a token it cannot open, and says so on the sign-in page, never as an error", async () => {
    const { clock, signIn, status, signOut, app, deps, keyStore } = await adminApp();
    const open = await signIn();
    const lti = await deps.sessions.issue({
      course: { issuer: "https://moodle.test", clientId: "c", deploymentId: "1", contextId: "k" },
      userId: "u",
      role: "administrator",
    });
    const expiring = await signIn();
    clock.at += 31 * 60_000;
    const current = await signIn();
    // As this tool sealed admin sessions before it could sign out: no time to the millisecond.
    const unplaced = await deps.sessions.seal("hlta-admin", { admin: true }, 30 * 60, new Date(clock.at));
    expect(await status(unplaced)).toBe(401);
    for (const s of ["", "not-a-token", lti, expiring, unplaced]) {
      const res = await signOut(s);
      expect(res.status, s).toBe(200);
      const page = await res.text();
      expect(page).toContain("Your sign-in had ended already");
      expect(page).not.toContain(SIGNED_OUT);
      expect(page).toContain('action="/admin/login"');
    }
    const bare = await app.request("/admin/sign-out", { method: "POST" });
    expect(bare.status).toBe(200);
    expect(keyStore.adminSessionsFrom).toBeUndefined();
    expect(await status(current)).toBe(200);
    expect(await status(open)).toBe(401); // expired on its own
  });

  it("offers Sign out on every administration page as a form post carrying the session, and says what it ends", async () => {
    const { signIn, app } = await adminApp();
    const s = await signIn();
    for (const page of ["platforms", "links", "grades", "xapi"]) {
      const html = await (await app.request(`/admin/${page}?s=${encodeURIComponent(s)}`)).text();
      expect(html, page).toContain(
        `<form method="post" action="/admin/sign-out"><input type="hidden" name="s" value="${s}"/>`,
      );
      expect(html, page).toMatch(
        /<button class="button" type="submit" aria-describedby="sign-out-note">\s*Sign out/,
      );
      expect(html, page).toContain("ends every administration session, in every browser");
      expect(html, page).not.toContain('href="/admin/sign-out');
    }
    // A GET is not a sign-out.
    expect((await app.request(`/admin/sign-out?s=${encodeURIComponent(s)}`)).status).toBe(404);
    expect((await app.request(`/admin/links?s=${encodeURIComponent(s)}`)).status).toBe(200);
  });
});

describe("replacing the administrator key", () => {
  it("refuses the old key at sign-in, takes the new one, and ends the sessions open", async () => {
    const { clock, signIn, status, app, adminKey, keyStore } = await adminApp();
    const open = await signIn();
    clock.at += 1_000;
    const newKey = await replaceAdminKey(keyStore);
    expect(Buffer.from(newKey).equals(Buffer.from(adminKey))).toBe(false);
    expect(newKey).toHaveLength(24);
    expect(await status(open)).toBe(401);
    // Ended by the key it was signed in with, not by an instant taken from the clock of the
    // machine that ran the command (an administrator's laptop running ahead would otherwise
    // refuse every new sign-in until its time).
    expect(await keyStore.adminSessionsValidFrom()).toBeUndefined();

    clock.at += 1_000;
    const old = await app.request("/admin/login", form({ key: Buffer.from(adminKey).toString("base64url") }));
    expect(old.status).toBe(401);
    expect(await status(await signIn(newKey))).toBe(200);
  });
});
