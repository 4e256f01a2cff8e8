/**
 * A small browser cookie jar for the launch driver: RFC 6265bis storage and matching, plus
 * the browser rules an LTI launch runs into: SameSite (Lax by default, as Chrome), Secure
 * (with `http://localhost` and `127.0.0.1` counted as secure, as browsers do), third-party
 * blocking inside a cross-site iframe, and partitioned cookies (CHIPS) keyed by the
 * top-level site. Cookies are kept per host; ports do not separate cookies (RFC 6265 §8.5).
 */

export type SameSite = "strict" | "lax" | "none" | "unspecified";

/** What a browser does with cookies in a cross-site iframe (third-party context). */
export type ThirdPartyCookiePolicy =
  /** Older Chrome and Edge defaults: `SameSite=None; Secure` cookies work. */
  | "allow"
  /** Only `Partitioned` cookies, kept per top-level site (Chrome with 3PC blocked, Firefox TCP). */
  | "partitioned-only"
  /** No cookies at all (Safari's default). */
  | "block";

export interface StoredCookie {
  readonly name: string;
  readonly value: string;
  /** Host the cookie came from, or its Domain attribute when not host-only. */
  readonly domain: string;
  readonly hostOnly: boolean;
  readonly path: string;
  readonly secure: boolean;
  readonly httpOnly: boolean;
  readonly sameSite: SameSite;
  /** Top-level site of a partitioned cookie. */
  readonly partitionKey: string | undefined;
  /** Epoch ms; undefined for a session cookie. */
  readonly expiresAt: number | undefined;
  readonly createdAt: number;
}

/** The browsing context of one request, as the cookie rules see it. */
export interface CookieContext {
  readonly method: string;
  /** `scheme://site` of the top-level document (for a top-level navigation: of the request URL). */
  readonly topLevelSite: string;
  /** Whether the request is same-site with its initiator and every frame above it. */
  readonly sameSite: boolean;
  /** A navigation of the top-level window (Lax cookies may go cross-site on safe methods). */
  readonly topLevelNavigation: boolean;
}

/**
 * Schemeful site. Without the Public Suffix List, a domain's site is its last two labels; the
 * jar is for loopback tests, where the host itself (localhost, an IP address) is the site.
 */
export function siteOf(url: URL): string {
  const host = url.hostname;
  const isIp = /^[0-9.]+$/.test(host) || host.startsWith("[");
  const labels = host.split(".");
  const site = isIp || labels.length <= 2 ? host : labels.slice(-2).join(".");
  return `${url.protocol}//${site}`;
}

/** Secure contexts per the Secure Contexts spec: https, and loopback even over http. */
export function isPotentiallyTrustworthy(url: URL): boolean {
  if (url.protocol === "https:") return true;
  const host = url.hostname;
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    /^127\.\d+\.\d+\.\d+$/.test(host) ||
    host === "[::1]"
  );
}

function defaultPath(url: URL): string {
  const path = url.pathname;
  if (!path.startsWith("/")) return "/";
  const last = path.lastIndexOf("/");
  return last <= 0 ? "/" : path.slice(0, last);
}

function pathMatches(cookiePath: string, requestPath: string): boolean {
  if (cookiePath === requestPath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath[cookiePath.length] === "/";
}

function domainMatches(cookie: StoredCookie, host: string): boolean {
  if (cookie.hostOnly) return cookie.domain === host;
  return host === cookie.domain || host.endsWith(`.${cookie.domain}`);
}

function isIpHost(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.startsWith("[");
}

/** Parses one Set-Cookie header; undefined when a browser would ignore it. */
export function parseSetCookie(
  header: string,
  url: URL,
  now: number,
  partitionKey: string,
): StoredCookie | undefined {
  const [pair = "", ...attributeParts] = header.split(";");
  const eq = pair.indexOf("=");
  if (eq < 0) return undefined; // nameless cookies are legal but no LTI tool sends them
  const name = pair.slice(0, eq).trim();
  const value = pair
    .slice(eq + 1)
    .trim()
    .replace(/^"(.*)"$/, "$1");
  if (!name) return undefined;

  const host = url.hostname;
  let domain = host;
  let hostOnly = true;
  let path = defaultPath(url);
  let secure = false;
  let httpOnly = false;
  let sameSite: SameSite = "unspecified";
  let partitioned = false;
  let maxAge: number | undefined;
  let expires: number | undefined;

  for (const part of attributeParts) {
    const at = part.indexOf("=");
    const key = (at < 0 ? part : part.slice(0, at)).trim().toLowerCase();
    const val = at < 0 ? "" : part.slice(at + 1).trim();
    switch (key) {
      case "domain": {
        const d = val.replace(/^\./, "").toLowerCase();
        if (!d) break;
        // An IP address only ever gets host-only cookies; a name may widen to a parent domain.
        if (isIpHost(host)) {
          if (d !== host) return undefined;
          break;
        }
        if (d !== host && !host.endsWith(`.${d}`)) return undefined;
        domain = d;
        hostOnly = false;
        break;
      }
      case "path":
        path = val.startsWith("/") ? val : defaultPath(url);
        break;
      case "secure":
        secure = true;
        break;
      case "httponly":
        httpOnly = true;
        break;
      case "partitioned":
        partitioned = true;
        break;
      case "samesite": {
        const v = val.toLowerCase();
        sameSite = v === "strict" || v === "lax" || v === "none" ? v : "unspecified";
        break;
      }
      case "max-age":
        if (/^-?\d+$/.test(val)) maxAge = Number(val);
        break;
      case "expires": {
        const t = Date.parse(val);
        if (!Number.isNaN(t)) expires = t;
        break;
      }
    }
  }

  if (secure && !isPotentiallyTrustworthy(url)) return undefined;
  if (sameSite === "none" && !secure) return undefined; // Chrome refuses SameSite=None without Secure
  if (partitioned && !secure) return undefined; // CHIPS requires Secure
  if (name.startsWith("__Secure-") && !secure) return undefined;
  if (name.startsWith("__Host-") && (!secure || !hostOnly || path !== "/")) return undefined;

  const expiresAt = maxAge !== undefined ? now + maxAge * 1000 : expires;
  return {
    name,
    value,
    domain,
    hostOnly,
    path,
    secure,
    httpOnly,
    sameSite,
    partitionKey: partitioned ? partitionKey : undefined,
    expiresAt,
    createdAt: now,
  };
}

export interface CookieJarOptions {
  readonly thirdPartyCookies?: ThirdPartyCookiePolicy;
  readonly now?: () => number;
}

export class CookieJar {
  readonly thirdPartyCookies: ThirdPartyCookiePolicy;
  private readonly now: () => number;
  private readonly cookies = new Map<string, StoredCookie>();

  constructor(options: CookieJarOptions = {}) {
    this.thirdPartyCookies = options.thirdPartyCookies ?? "allow";
    this.now = options.now ?? Date.now;
  }

  /** Stores the response's cookies that a browser in this context would keep. */
  store(setCookieHeaders: readonly string[], url: URL, context: CookieContext): void {
    const now = this.now();
    const thirdParty = siteOf(url) !== context.topLevelSite;
    for (const header of setCookieHeaders) {
      const cookie = parseSetCookie(header, url, now, context.topLevelSite);
      if (!cookie) continue;
      // Chrome: a Lax/Strict (or default) cookie from a cross-site response is only stored
      // when the response is to a top-level navigation.
      if (!context.sameSite && cookie.sameSite !== "none" && !context.topLevelNavigation) continue;
      if (thirdParty && !this.allowsThirdParty(cookie)) continue;
      const key = [cookie.partitionKey ?? "", cookie.domain, cookie.path, cookie.name].join("\u0000");
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= now) {
        this.cookies.delete(key);
        continue;
      }
      const existing = this.cookies.get(key);
      this.cookies.set(key, existing ? { ...cookie, createdAt: existing.createdAt } : cookie);
    }
  }

  /** The `Cookie` header a browser would send, or undefined when none applies. */
  header(url: URL, context: CookieContext): string | undefined {
    const now = this.now();
    const thirdParty = siteOf(url) !== context.topLevelSite;
    const safeMethod = context.method === "GET" || context.method === "HEAD";
    const matching = [...this.cookies.values()].filter((cookie) => {
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= now) return false;
      if (!domainMatches(cookie, url.hostname) || !pathMatches(cookie.path, url.pathname)) return false;
      if (cookie.secure && !isPotentiallyTrustworthy(url)) return false;
      if (cookie.partitionKey !== undefined && cookie.partitionKey !== context.topLevelSite) return false;
      if (!context.sameSite) {
        if (cookie.sameSite === "strict") return false;
        if (cookie.sameSite !== "none" && !(context.topLevelNavigation && safeMethod)) return false;
      }
      return !thirdParty || this.allowsThirdParty(cookie);
    });
    if (matching.length === 0) return undefined;
    // RFC 6265 §5.4: longer paths first, then older cookies first.
    matching.sort((a, b) => b.path.length - a.path.length || a.createdAt - b.createdAt);
    return matching.map((c) => `${c.name}=${c.value}`).join("; ");
  }

  list(): StoredCookie[] {
    const now = this.now();
    return [...this.cookies.values()].filter((c) => c.expiresAt === undefined || c.expiresAt > now);
  }

  clear(): void {
    this.cookies.clear();
  }

  private allowsThirdParty(cookie: StoredCookie): boolean {
    if (this.thirdPartyCookies === "block") return false;
    if (this.thirdPartyCookies === "partitioned-only") return cookie.partitionKey !== undefined;
    return true;
  }
}
