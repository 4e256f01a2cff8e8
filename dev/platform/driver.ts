/**
 * The launch driver: performs an LTI 1.3 launch (a resource link, or a deep-linking request)
 * over real HTTP the way a browser does, for tests and benchmarks. It starts at the platform's launch page, submits its login form to
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
  /**
   * A resource link launch (default), or a deep-linking request: a teacher adding an activity
   * with the tool (starts at the platform's `contentitem.php`; the result is the tool's page).
   */
  readonly message?: "resource-link" | "deep-linking";
  /** For deep linking: the tool's type id or client_id (default: the platform's first tool). */
  readonly tool?: string;
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

/** A page the simulated browser is on: enough to carry on from it (see `submitForm`). */
export interface BrowserPage {
  readonly status: number;
  readonly html: string;
  readonly url: string;
  readonly headers: Headers;
  readonly jar: CookieJar;
  /** Where the LMS shows the tool (decides the cookie rules). */
  readonly presentation: "iframe" | "window";
  /** The platform's base URL: the top-level site when the tool is in the LMS's iframe. */
  readonly platformUrl: string;
}

export interface LaunchResult extends BrowserPage {
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

interface BrowserConfig {
  readonly fetchImpl: typeof fetch;
  readonly jar: CookieJar;
  readonly presentation: "iframe" | "window";
  readonly platformUrl: URL;
  readonly userAgent: string | undefined;
  readonly capture: boolean;
}

/** The browser's side of the requests: cookies, fetch metadata, forms, redirects. */
class Browser {
  readonly exchanges: Exchange[] = [];
  readonly timings = { start: 0, login: 0, auth: 0, launch: 0, page: 0 };

  constructor(private readonly config: BrowserConfig) {}

  /** One HTTP request, with the cookies and fetch metadata a browser would attach. */
  async request(step: LaunchStep, nav: Navigation): Promise<Page> {
    const { jar, presentation, platformUrl } = this.config;
    const context = cookieContext(nav, presentation, platformUrl);
    const headers: Record<string, string> = {
      accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
      "user-agent": this.config.userAgent ?? "hlta-dev-launch-driver/1",
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
    const response = await this.config.fetchImpl(nav.url, {
      method: nav.method,
      headers,
      body,
      redirect: "manual",
    });
    const html = await response.text();
    const ms = performance.now() - started;
    this.timings[step] += ms;
    const setCookie = response.headers.getSetCookie();
    jar.store(setCookie, nav.url, context);
    if (this.config.capture) {
      this.exchanges.push({
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

  submit(form: ParsedForm, page: Page | { url: URL }): Navigation {
    const action = new URL(form.action);
    if (form.method === "get") {
      action.search = formBody(form.fields).toString();
      return { method: "GET", url: action, body: undefined, initiator: page.url, chain: [] };
    }
    return { method: "POST", url: action, body: formBody(form.fields), initiator: page.url, chain: [] };
  }

  /** Where a redirect leads; browsers turn POST into GET on 301/302/303. */
  follow(page: Page, nav: Navigation): Navigation | undefined {
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
  }
}

export async function launch(options: LaunchOptions): Promise<LaunchResult> {
  const jar = options.jar ?? new CookieJar({ thirdPartyCookies: options.thirdPartyCookies });
  const presentation = options.presentation ?? "iframe";
  const platformUrl = new URL(options.platformUrl.replace(/\/*$/, "/"));
  const maxHops = options.maxHops ?? 10;
  const browser = new Browser({
    fetchImpl: options.fetchImpl ?? fetch,
    jar,
    presentation,
    platformUrl,
    userAgent: options.userAgent,
    capture: options.capture ?? false,
  });
  const { exchanges, timings } = browser;
  const drop = new Set<LaunchStep>(
    options.dropCookies === true ? ["login", "auth", "launch"] : options.dropCookies || [],
  );

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

  // start: the LMS's launch page, opened by its course page (iframe) or as a new window.
  const deepLinking = options.message === "deep-linking";
  const startUrl = new URL(deepLinking ? "mod/lti/contentitem.php" : "mod/lti/launch.php", platformUrl);
  startUrl.search = new URLSearchParams({
    course: options.course,
    user: options.user,
    ...(!deepLinking && options.link ? { link: options.link } : {}),
    ...(deepLinking && options.tool ? { id: options.tool } : {}),
    target: presentation,
  }).toString();
  let nav: Navigation = { method: "GET", url: startUrl, body: undefined, initiator: platformUrl, chain: [] };
  let page = await browser.request("start", nav);
  for (let hop = 0; REDIRECT.has(page.response.status) && hop < maxHops; hop++) {
    const next = browser.follow(page, nav);
    if (!next) break;
    nav = next;
    page = await browser.request("start", nav);
  }
  const loginForm = parseForms(page.html, page.url.toString())[0];
  if (!loginForm) return fail("start", page, "the platform's launch page has no login form");

  // login: the third-party initiated login at the tool (LTI Core §4.1).
  if (drop.has("login")) jar.clear();
  nav = browser.submit(loginForm, page);
  page = await browser.request("login", nav);

  // auth: the tool sends the browser to the platform's auth endpoint, by redirect or form.
  if (drop.has("auth")) jar.clear();
  let idTokenForm: ParsedForm | undefined;
  for (let hop = 0; hop < maxHops && !idTokenForm; hop++) {
    const redirect = browser.follow(page, nav);
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
      nav = browser.submit(form, page);
    }
    page = await browser.request("auth", nav);
  }
  if (!idTokenForm) return fail("auth", page, `no id_token form after ${maxHops} hops`);

  // launch: the id_token (or the OIDC error) form-posted to the tool's redirect URI.
  if (drop.has("launch")) jar.clear();
  nav = browser.submit(idTokenForm, page);
  page = await browser.request("launch", nav);
  for (let hop = 0; options.followLaunchRedirects && hop < maxHops; hop++) {
    const next = browser.follow(page, nav);
    if (!next) break;
    nav = next;
    page = await browser.request("page", nav);
  }

  return {
    status: page.response.status,
    html: page.html,
    url: page.url.toString(),
    headers: page.response.headers,
    cookies: jar.list(),
    jar,
    presentation,
    platformUrl: options.platformUrl,
    timings,
    exchanges,
  };
}

export interface SubmitFormOptions {
  /** Which form on the page: its index (default 0), or its id or name. */
  readonly form?: number | string;
  /** Fields to set (replacing any of the same name) or add, as a person filling the form would. */
  readonly fields?: Readonly<Record<string, string>>;
  readonly fetchImpl?: typeof fetch;
  /** Redirects followed after the submission (default 10). */
  readonly maxHops?: number;
  readonly capture?: boolean;
  readonly userAgent?: string;
}

export interface SubmitFormResult extends BrowserPage {
  /** Filled when `capture` is set (step "page"). */
  readonly exchanges: readonly Exchange[];
}

/**
 * Submits a form of the page the browser is on (a launch result, or an earlier submission),
 * with the same cookie jar and presentation, and follows redirects. Carries a flow on after the
 * launch: the tool's deep-linking selection, then its auto-posted response to the platform.
 */
export async function submitForm(
  page: BrowserPage,
  options: SubmitFormOptions = {},
): Promise<SubmitFormResult> {
  const forms = parseForms(page.html, page.url);
  const which = options.form ?? 0;
  const form =
    typeof which === "number" ? forms[which] : forms.find((f) => f.id === which || f.name === which);
  if (!form) throw new Error(`No form ${JSON.stringify(which)} on ${page.url} (it has ${forms.length}).`);
  const overrides = options.fields ?? {};
  const fields: (readonly [string, string])[] = form.fields.filter(([name]) => !(name in overrides));
  for (const [name, value] of Object.entries(overrides)) fields.push([name, value]);

  const browser = new Browser({
    fetchImpl: options.fetchImpl ?? fetch,
    jar: page.jar,
    presentation: page.presentation,
    platformUrl: new URL(page.platformUrl.replace(/\/*$/, "/")),
    userAgent: options.userAgent,
    capture: options.capture ?? false,
  });
  let nav = browser.submit({ ...form, fields }, { url: new URL(page.url) });
  let current = await browser.request("page", nav);
  for (let hop = 0; hop < (options.maxHops ?? 10); hop++) {
    const next = browser.follow(current, nav);
    if (!next) break;
    nav = next;
    current = await browser.request("page", nav);
  }
  return {
    status: current.response.status,
    html: current.html,
    url: current.url.toString(),
    headers: current.response.headers,
    jar: page.jar,
    presentation: page.presentation,
    platformUrl: page.platformUrl,
    exchanges: browser.exchanges,
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
