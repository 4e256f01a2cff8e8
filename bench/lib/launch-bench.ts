/**
 * The launch handshake as a browser in the LMS's iframe performs it, timed end to end:
 * the platform's launch page → the tool's login → the platform's auth → the id_token POST to
 * the tool → the tool's redirect followed to its first page (GET, must be 200 and show the
 * launched person's page). The driver (dev/platform/driver.ts) does the first four over
 * real HTTP; this module follows the redirect with the same cookie jar and checks the page.
 */
import { performance } from "node:perf_hooks";
import { CookieJar, siteOf } from "../../dev/platform/cookie-jar.js";
import { launch } from "../../dev/platform/index.js";
import type { BenchUser } from "./seed.js";

const REDIRECT = new Set([301, 302, 303, 307, 308]);

export interface LaunchTarget {
  readonly label: string;
  readonly platformUrl: string;
  readonly course: string;
  readonly users: readonly BenchUser[];
  /** A reason the first page is wrong for this user, or undefined when it is right. */
  verify(html: string, user: BenchUser): string | undefined;
}

/**
 * Where one launch's time went, by who answered: the driver's exchanges are split by origin,
 * so a tool's extra hops (say, a cookie check before the auth redirect) count as the tool's.
 */
export interface StepTimings {
  /** The platform's requests: its launch page and its auth endpoint (signs the id_token). */
  readonly platform: number;
  readonly platformRequests: number;
  /** The tool's requests up to and including the id_token POST (login, any checks, launch). */
  readonly tool: number;
  readonly toolRequests: number;
  /** The id_token POST alone. */
  readonly launchPost: number;
  /** The tool's first page (GET after the launch's redirect). */
  readonly page: number;
}

export interface LaunchSample {
  readonly totalMs: number;
  readonly steps: StepTimings;
}

export class LaunchFailure extends Error {
  constructor(
    message: string,
    readonly user: string,
  ) {
    super(message);
    this.name = "LaunchFailure";
  }
}

const snippet = (html: string) =>
  html
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 240);

/**
 * One full launch; throws LaunchFailure when any step or the first page is wrong. With `jars`,
 * each person launches from their own browser, which keeps its cookies between launches (as a
 * returning candidate's does); without, every launch starts from an empty cookie jar.
 */
export async function launchOnce(
  target: LaunchTarget,
  user: BenchUser,
  jars?: Map<string, CookieJar>,
): Promise<LaunchSample> {
  const started = performance.now();
  let result: Awaited<ReturnType<typeof launch>>;
  try {
    result = await launch({
      platformUrl: target.platformUrl,
      course: target.course,
      user: user.username,
      presentation: "iframe",
      // Kept for the per-origin timings; bodies are small HTML pages.
      capture: true,
      ...(jars ? { jar: jarOf(jars, user.username) } : {}),
    });
  } catch (error) {
    throw new LaunchFailure(`the flow stopped: ${(error as Error).message}`, user.username);
  }
  const location = result.headers.get("location");
  if (!REDIRECT.has(result.status) || !location) {
    throw new LaunchFailure(
      `the launch POST answered HTTP ${result.status} without a redirect to the first page: ${snippet(result.html)}`,
      user.username,
    );
  }
  // After the id_token POST (cross-site, from the platform's auth page) the browser follows
  // the tool's 302/303 with a GET, still inside the LMS's iframe.
  const pageUrl = new URL(location, result.url);
  const topLevelSite = siteOf(new URL(target.platformUrl));
  const cookie = result.jar.header(pageUrl, {
    method: "GET",
    topLevelSite,
    sameSite: siteOf(pageUrl) === topLevelSite,
    topLevelNavigation: false,
  });
  const pageStarted = performance.now();
  const response = await fetch(pageUrl, {
    redirect: "manual",
    headers: {
      accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
      "user-agent": "hlta-bench/1",
      "sec-fetch-dest": "iframe",
      "sec-fetch-mode": "navigate",
      "sec-fetch-site": "cross-site",
      ...(cookie ? { cookie } : {}),
    },
  });
  const html = await response.text();
  const done = performance.now();
  if (response.status !== 200) {
    throw new LaunchFailure(
      `the first page answered HTTP ${response.status}: ${snippet(html)}`,
      user.username,
    );
  }
  const wrong = target.verify(html, user);
  if (wrong) throw new LaunchFailure(`the first page is wrong: ${wrong}`, user.username);
  const platformOrigin = new URL(target.platformUrl).origin;
  let platform = 0;
  let platformRequests = 0;
  let tool = 0;
  let toolRequests = 0;
  for (const exchange of result.exchanges) {
    if (new URL(exchange.request.url).origin === platformOrigin) {
      platform += exchange.ms;
      platformRequests++;
    } else {
      tool += exchange.ms;
      toolRequests++;
    }
  }
  return {
    totalMs: done - started,
    steps: {
      platform,
      platformRequests,
      tool,
      toolRequests,
      launchPost: result.timings.launch,
      page: done - pageStarted,
    },
  };
}

export interface RunResult {
  readonly samples: LaunchSample[];
  readonly failures: LaunchFailure[];
  readonly attempted: number;
  readonly elapsedMs: number;
  /** The run stopped at its time limit before its count. */
  readonly timedOut: boolean;
}

function jarOf(jars: Map<string, CookieJar>, username: string): CookieJar {
  let jar = jars.get(username);
  if (!jar) {
    jar = new CookieJar();
    jars.set(username, jar);
  }
  return jar;
}

async function attempt(
  target: LaunchTarget,
  user: BenchUser,
  run: { samples: LaunchSample[]; failures: LaunchFailure[] },
  jars?: Map<string, CookieJar>,
) {
  try {
    run.samples.push(await launchOnce(target, user, jars));
  } catch (error) {
    run.failures.push(
      error instanceof LaunchFailure ? error : new LaunchFailure(String(error), user.username),
    );
  }
}

/** `count` launches one after another, stopping early at `maxMs` (`jars`: see launchOnce). */
export async function runSequential(
  target: LaunchTarget,
  count: number,
  maxMs: number,
  jars?: Map<string, CookieJar>,
): Promise<RunResult> {
  const run = { samples: [] as LaunchSample[], failures: [] as LaunchFailure[] };
  const started = performance.now();
  let attempted = 0;
  let timedOut = false;
  for (let i = 0; i < count; i++) {
    if (performance.now() - started > maxMs) {
      timedOut = true;
      break;
    }
    const user = target.users[i % target.users.length];
    if (!user) break;
    attempted++;
    await attempt(target, user, run, jars);
  }
  return { ...run, attempted, elapsedMs: performance.now() - started, timedOut };
}

/**
 * `count` launches with `concurrency` in flight, stopping early at `maxMs`. Each worker
 * launches its own people (no one launches twice at the same moment).
 */
export async function runConcurrent(
  target: LaunchTarget,
  count: number,
  concurrency: number,
  maxMs: number,
): Promise<RunResult> {
  const run = { samples: [] as LaunchSample[], failures: [] as LaunchFailure[] };
  const started = performance.now();
  let next = 0;
  let timedOut = false;
  const perWorker = Math.max(1, Math.floor(target.users.length / concurrency));
  const worker = async (w: number) => {
    for (let k = 0; ; k++) {
      if (next >= count) return;
      if (performance.now() - started > maxMs) {
        timedOut = true;
        return;
      }
      next++;
      const user = target.users[(w + (k % perWorker) * concurrency) % target.users.length];
      if (!user) return;
      await attempt(target, user, run);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  return { ...run, attempted: next, elapsedMs: performance.now() - started, timedOut };
}
