import { describe, expect, it } from "vitest";
import { type CookieContext, CookieJar, siteOf } from "../../../dev/platform/cookie-jar.js";

const TOOL = new URL("http://127.0.0.1:8787/lti/login");
const LAUNCH = new URL("http://127.0.0.1:8787/lti/launch");
const LMS_SITE = "http://localhost";

/** A request from inside the LMS's iframe to a tool on another site. */
const inLmsIframe = (method = "POST"): CookieContext => ({
  method,
  topLevelSite: LMS_SITE,
  sameSite: false,
  topLevelNavigation: false,
});
/** The tool in its own window, reached by a cross-site form post from the LMS. */
const topLevelFromLms = (method = "POST"): CookieContext => ({
  method,
  topLevelSite: siteOf(TOOL),
  sameSite: false,
  topLevelNavigation: true,
});
const firstParty = (method = "POST"): CookieContext => ({
  method,
  topLevelSite: siteOf(TOOL),
  sameSite: true,
  topLevelNavigation: true,
});

describe("cookie jar", () => {
  it("keys cookies by host, not port, and matches paths per RFC 6265", () => {
    const jar = new CookieJar();
    // Without Path, the default path is the request's directory: /lti for /lti/login.
    jar.store(["a=1", "b=2; Path=/"], TOOL, firstParty());
    expect(jar.header(new URL("http://127.0.0.1:9999/lti/x"), firstParty())).toBe("a=1; b=2");
    expect(jar.header(new URL("http://127.0.0.1:8787/ltix"), firstParty())).toBe("b=2");
    expect(jar.header(new URL("http://localhost:8787/lti/x"), firstParty())).toBeUndefined();
  });

  it("treats http://127.0.0.1 and localhost as secure, other http hosts not", () => {
    const jar = new CookieJar();
    jar.store(["s=1; Secure"], TOOL, firstParty());
    jar.store(["s=2; Secure"], new URL("http://tool.test/"), firstParty());
    expect(jar.list().map((c) => c.value)).toEqual(["1"]);
  });

  it("keeps a SameSite=None; Secure cookie across the LMS iframe when third-party cookies are allowed", () => {
    const jar = new CookieJar({ thirdPartyCookies: "allow" });
    jar.store(["state=s; Path=/; SameSite=None; Secure; HttpOnly"], TOOL, inLmsIframe());
    expect(jar.header(LAUNCH, inLmsIframe())).toBe("state=s");
  });

  it("refuses SameSite=None without Secure, and Lax or default cookies set in a cross-site iframe", () => {
    const jar = new CookieJar();
    jar.store(["n=1; SameSite=None", "l=1; SameSite=Lax", "d=1"], TOOL, inLmsIframe());
    expect(jar.list()).toEqual([]);
  });

  it("sends Lax cookies on a cross-site top-level GET but not on a cross-site POST", () => {
    const jar = new CookieJar();
    jar.store(["l=1; SameSite=Lax", "s=1; SameSite=Strict"], TOOL, firstParty());
    expect(jar.header(LAUNCH, topLevelFromLms("GET"))).toBe("l=1");
    expect(jar.header(LAUNCH, topLevelFromLms("POST"))).toBeUndefined();
    expect(jar.header(LAUNCH, firstParty("POST"))).toBe("l=1; s=1");
  });

  it("blocks every third-party cookie when the browser does (Safari)", () => {
    const jar = new CookieJar({ thirdPartyCookies: "block" });
    jar.store(["p=1; SameSite=None; Secure; Partitioned", "u=1; SameSite=None; Secure"], TOOL, inLmsIframe());
    expect(jar.list()).toEqual([]);
  });

  it("keeps only partitioned cookies, and only within the same top-level site (CHIPS)", () => {
    const jar = new CookieJar({ thirdPartyCookies: "partitioned-only" });
    jar.store(["p=1; SameSite=None; Secure; Partitioned", "u=1; SameSite=None; Secure"], TOOL, inLmsIframe());
    expect(jar.list().map((c) => [c.name, c.partitionKey])).toEqual([["p", LMS_SITE]]);
    expect(jar.header(LAUNCH, inLmsIframe())).toBe("p=1");
    expect(jar.header(LAUNCH, { ...inLmsIframe(), topLevelSite: "http://other-lms.test" })).toBeUndefined();
  });

  it("deletes a cookie on Max-Age=0 and forgets expired ones", () => {
    let now = 1_000_000;
    const jar = new CookieJar({ now: () => now });
    jar.store(["a=1; Max-Age=60", "b=1"], TOOL, firstParty());
    jar.store(["b=; Max-Age=0"], TOOL, firstParty());
    expect(jar.header(LAUNCH, firstParty())).toBe("a=1");
    now += 61_000;
    expect(jar.header(LAUNCH, firstParty())).toBeUndefined();
  });

  it("enforces the __Host- prefix", () => {
    const jar = new CookieJar();
    jar.store(
      ["__Host-a=1; Secure; Path=/", "__Host-b=1; Path=/", "__Host-c=1; Secure; Path=/lti"],
      TOOL,
      firstParty(),
    );
    expect(jar.list().map((c) => c.name)).toEqual(["__Host-a"]);
  });
});
