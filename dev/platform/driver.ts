/**
 * The launch driver: performs an LTI 1.3 launch over real HTTP the way a browser does, for
 * tests and benchmarks. It starts at the platform's launch page, submits its login form to
 * the tool, follows whatever the tool answers (a redirect or an auto-submitting form) to the
 * platform's auth endpoint, and posts the id_token form back to the tool. It knows nothing of
 * the tool's paths beyond what the tool's responses say, so it drives any LTI 1.3 tool
 * (ours, or the ltijs baseline).
 *
 * Cookies follow browser rules (see cookie-jar.ts) for where the LMS shows the tool: inside
 * the course page's iframe (the tool is a third party there when it is on another site) or
 * in a new window.
 */
import { performance } from "node:perf_hooks";
import {
  type CookieContext,
  CookieJar,
  type StoredCookie,
  siteOf,
  type ThirdPartyCookiePolicy,
} from "./cookie-jar.js";
import { formBody, type ParsedForm, parseForms } from "./html-form.js";

export type LaunchStep = "start" | "login" | "auth" | "launch" | "page";

export interface LaunchOptions {
  /** The platform's base URL, e.g. `http://localhost:8790`. */
  readonly platformUrl: string;
  /** Course id or short name. */
  readonly course: string;
  /** User id or username. */
  readonly user: string;
  /** Resource link id; the course's first link by default. */
  readonly link?: string;
  /** Where the LMS shows the tool: its course page's iframe (default) or a new window. */
  readonly presentation?: "iframe" | "window";
  readonly fetchImpl?: typeof fetch;
  /** Reuse a jar across launches; a fresh one otherwise. */
  readonly jar?: CookieJar;
  /** Policy of the fresh jar (ignored when `jar` is given). Default "allow". */
  readonly thirdPartyCookies?: ThirdPartyCookiePolicy;
  /**
   * Forget every cookie before these steps, as if the browser had refused them;
   * `true` means before each of login, auth and launch.
   */
  readonly dropCookies?: boolean | readonly LaunchStep[];
  /** Keep every request and response (with bodies) in the result. */
  readonly capture?: boolean;
  /** Redirects and auto-submitted forms allowed in the auth step (default 10). */
  readonly maxHops?: number;
  /**
   * Follow the tool's redirects after the launch POST to its first page (step "page"), for
   * tools that answer the launch with a redirect (ltijs: `302 /?ltik=…`). Off by default:
   * the result is then the launch POST's own response.
   */
  readonly followLaunchRedirects?: boolean;
  readonly userAgent?: string;
}

export interface Exchange {
  readonly step: LaunchStep;
  readonly request: {
    readonly method: string;
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: string | undefined;
  };
  readonly response: {
    readonly status: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly setCookie: readonly string[];
    readonly body: string;
  };
  readonly ms: number;
}

export interface LaunchResult {
  /** The tool's answer to the id_token POST (or its first page with `followLaunchRedirects`). */
  readonly status: number;
  readonly html: string;
  readonly url: string;
  readonly headers: Headers;
  /** Cookies in the jar after the launch. */
  readonly cookies: readonly StoredCookie[];
  readonly jar: CookieJar;
  /** Milliseconds per step: the tool's login, the platform's auth, the tool's launch. */
  readonly timings: {
    readonly start: number;
    readonly login: number;
    readonly auth: number;
    readonly launch: number;
    /** Redirects followed after the launch (`followLaunchRedirects`). */
    readonly page: number;
  };
  /** Filled when `capture` is set. */
  readonly exchanges: readonly Exchange[];
}

/** The flow stopped before the launch: a response that was neither a redirect nor a form. */
export class LaunchFlowError extends Error {
  constructor(
    message: string,
    readonly step: LaunchStep,
    readonly status: number,
    readonly url: string,
    readonly html: string,
    readonly exchanges: readonly Exchange[],
  ) {
    super(message);
    this.name = "LaunchFlowError";
  }
}

interface Page {
  readonly response: Response;
  readonly url: URL;
  readonly html: string;
}

interface Navigation {
  readonly method: "GET" | "POST";
  readonly url: URL;
  readonly body: URLSearchParams | undefined;
  /** The document that started this navigation (the page holding the form, or the opener). */
  readonly initiator: URL;
  /** URLs already visited by this navigation's redirects. */
  readonly chain: readonly URL[];
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);

export async function launch(options: LaunchOptions): Promise<LaunchResult> {
  const fetchImpl = options.fetchImpl ?? fetch;
  const jar = options.jar ?? new CookieJar({ thirdPartyCookies: options.thirdPartyCookies });
  const presentation = options.presentation ?? "iframe";
  const platformUrl = new URL(options.platformUrl.replace(/\/*$/, "/"));
  const maxHops = options.maxHops ?? 10;
  const exchanges: Exchange[] = [];
  const drop = new Set<LaunchStep>(
    options.dropCookies === true ? ["login", "auth", "launch"] : options.dropCookies || [],
  );
  const timings = { start: 0, login: 0, auth: 0, launch: 0, page: 0 };

  const fail = (step: LaunchStep, page: Page, why: string): never => {
    throw new LaunchFlowError(
      `Launch stopped at ${step}: ${why} (HTTP ${page.response.status} from ${page.url})`,
      step,
      page.response.status,
      page.url.toString(),
      page.html,
      exchanges,
    );
  };

  /** One HTTP request, with the cookies and fetch metadata a browser would attach. */
  async function request(step: LaunchStep, nav: Navigation): Promise<Page> {
    const context = cookieContext(nav, presentation, platformUrl);
    const headers: Record<string, string> = {
      accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
      "user-agent": options.userAgent ?? "hlta-dev-launch-driver/1",
      "sec-fetch-dest": presentation === "iframe" ? "iframe" : "document",
      "sec-fetch-mode": "navigate",
      "sec-fetch-site": fetchSite(nav),
    };
    const cookie = jar.header(nav.url, context);
    if (cookie) headers.cookie = cookie;
    const crossOrigin = nav.initiator.origin !== nav.url.origin;
    headers.referer = crossOrigin ? `${nav.initiator.origin}/` : nav.initiator.toString();
    if (nav.method === "POST") {
      headers["content-type"] = "application/x-www-form-urlencoded";
      // A redirect through another origin makes the Origin opaque (Fetch §3.2.5).
      const tainted = nav.chain.some((u) => u.origin !== nav.initiator.origin);
      headers.origin = tainted ? "null" : nav.initiator.origin;
    }
    const body = nav.body?.toString();
    const started = performance.now();
    const response = await fetchImpl(nav.url, { method: nav.method, headers, body, redirect: "manual" });
    const html = await response.text();
    const ms = performance.now() - started;
    timings[step] += ms;
    const setCookie = response.headers.getSetCookie();
    jar.store(setCookie, nav.url, context);
    if (options.capture) {
      exchanges.push({
        step,
        request: { method: nav.method, url: nav.url.toString(), headers, body },
        response: {
          status: response.status,
          headers: Object.fromEntries(response.headers),
          setCookie,
          body: html,
        },
        ms,
      });
    }
    return { response, url: nav.url, html };
  }

  const submit = (form: ParsedForm, page: Page): Navigation => {
    const action = new URL(form.action);
    if (form.method === "get") {
      action.search = formBody(form.fields).toString();
      return { method: "GET", url: action, body: undefined, initiator: page.url, chain: [] };
    }
    return { method: "POST", url: action, body: formBody(form.fields), initiator: page.url, chain: [] };
  };

  /** Where a redirect leads; browsers turn POST into GET on 301/302/303. */
  const follow = (page: Page, nav: Navigation): Navigation | undefined => {
    const location = page.response.headers.get("location");
    if (!REDIRECT.has(page.response.status) || !location) return undefined;
    const keep = page.response.status === 307 || page.response.status === 308;
    return {
      method: keep ? nav.method : "GET",
      url: new URL(location, page.url),
      body: keep ? nav.body : undefined,
      initiator: nav.initiator,
      chain: [...nav.chain, nav.url],
    };
  };

  // start: the LMS's launch page, opened by its course page (iframe) or as a new window.
  const startUrl = new URL("mod/lti/launch.php", platformUrl);
  startUrl.search = new URLSearchParams({
    course: options.course,
    user: options.user,
    ...(options.link ? { link: options.link } : {}),
    target: presentation,
  }).toString();
  let nav: Navigation = { method: "GET", url: startUrl, body: undefined, initiator: platformUrl, chain: [] };
  let page = await request("start", nav);
  for (let hop = 0; REDIRECT.has(page.response.status) && hop < maxHops; hop++) {
    const next = follow(page, nav);
    if (!next) break;
    nav = next;
    page = await request("start", nav);
  }
  const loginForm = parseForms(page.html, page.url.toString())[0];
  if (!loginForm) return fail("start", page, "the platform's launch page has no login form");

  // login: the third-party initiated login at the tool (LTI Core §4.1).
  if (drop.has("login")) jar.clear();
  nav = submit(loginForm, page);
  page = await request("login", nav);

  // auth: the tool sends the browser to the platform's auth endpoint, by redirect or form.
  if (drop.has("auth")) jar.clear();
  let idTokenForm: ParsedForm | undefined;
  for (let hop = 0; hop < maxHops && !idTokenForm; hop++) {
    const redirect = follow(page, nav);
    if (redirect) {
      nav = redirect;
    } else {
      const form = parseForms(page.html, page.url.toString())[0];
      if (!form) {
        return fail(hop === 0 ? "login" : "auth", page, "neither a redirect nor an auto-submitting form");
      }
      if (form.fields.some(([name]) => name === "id_token" || name === "error")) {
        idTokenForm = form;
        break;
      }
      nav = submit(form, page);
    }
    page = await request("auth", nav);
  }
  if (!idTokenForm) return fail("auth", page, `no id_token form after ${maxHops} hops`);

  // launch: the id_token (or the OIDC error) form-posted to the tool's redirect URI.
  if (drop.has("launch")) jar.clear();
  nav = submit(idTokenForm, page);
  page = await request("launch", nav);
  for (let hop = 0; options.followLaunchRedirects && hop < maxHops; hop++) {
    const next = follow(page, nav);
    if (!next) break;
    nav = next;
    page = await request("page", nav);
  }

  return {
    status: page.response.status,
    html: page.html,
    url: page.url.toString(),
    headers: page.response.headers,
    cookies: jar.list(),
    jar,
    timings,
    exchanges,
  };
}

/**
 * Same-site-ness for cookies. In the LMS's iframe every request is judged against the
 * top-level site (the LMS); in a window, against the initiator. A redirect through another
 * site makes the request cross-site.
 */
function cookieContext(nav: Navigation, presentation: "iframe" | "window", platformUrl: URL): CookieContext {
  const site = siteOf(nav.url);
  const topLevelSite = presentation === "iframe" ? siteOf(platformUrl) : site;
  const chainSameSite = [nav.initiator, ...nav.chain].every((u) => siteOf(u) === site);
  return {
    method: nav.method,
    topLevelSite,
    sameSite: chainSameSite && site === topLevelSite,
    topLevelNavigation: presentation === "window",
  };
}

/** `Sec-Fetch-Site` (Fetch Metadata §2.1), over the whole redirect chain. */
function fetchSite(nav: Navigation): "same-origin" | "same-site" | "cross-site" {
  const visited = [nav.initiator, ...nav.chain];
  if (visited.every((u) => u.origin === nav.url.origin)) return "same-origin";
  const site = siteOf(nav.url);
  return visited.every((u) => siteOf(u) === site) ? "same-site" : "cross-site";
}
