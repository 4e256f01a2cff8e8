import type { BrowserContext, Frame, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningDevPlatform } from "../../dev/platform/index.js";
import type { RunningToolServer } from "../../dev/tool-server.js";
import { CHROMIUM, chromiumAvailable, launchBrowser } from "../support/browser.js";
import { type Stack, startPlatform, startStack } from "../support/stack.js";

/**
 * The LMS page (http://localhost:…) and the tool (http://127.0.0.1:…) are different sites, so
 * inside the course page's iframe the tool is a third party, as on a real school's LMS.
 */
let stack: Stack;
let tool: RunningToolServer;
const platforms: RunningDevPlatform[] = [];

async function platform(options: { platformStorage: boolean }): Promise<RunningDevPlatform> {
  const p = await startPlatform(stack, { platformStorage: options.platformStorage });
  platforms.push(p);
  return p;
}

beforeAll(async () => {
  if (!chromiumAvailable()) {
    throw new Error(
      `Browser tests need Chromium at ${CHROMIUM}: sudo apt-get install -y chromium (.ci/run does this), or set CHROMIUM_PATH to a Chromium or Chrome.`,
    );
  }
  stack = await startStack();
  tool = stack.tool;
});
afterAll(async () => {
  for (const p of platforms) await p.stop();
  await stack?.stop();
});

/** The promise's value, or undefined if it fails or takes longer than `ms`. */
function within<T>(ms: number, promise: Promise<T>): Promise<T | undefined> {
  return Promise.race([
    promise.catch(() => undefined),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms)),
  ]);
}

/**
 * The tool's frame on the course page once it shows a heading (bounded wait). Every frame but
 * the LMS page itself is asked for the document it shows now: after the tool's cross-site form
 * posts (the LMS and the tool are different sites, so different renderer processes), Playwright
 * can keep reporting a frame's previous URL for a while, so `frame.url()` alone misses it.
 */
async function toolHeading(page: Page): Promise<{ frame: Frame; heading: string }> {
  const seen = traffic.get(page) ?? [];
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (frame === page.mainFrame()) continue;
      const shown = await within(
        500,
        frame.evaluate(() => ({
          url: location.href,
          heading: document.querySelector("h1")?.textContent ?? "",
        })),
      );
      if (shown?.url.startsWith(tool.url) && shown.heading) return { frame, heading: shown.heading };
    }
    await page.waitForTimeout(100);
  }
  const shown = await Promise.all(
    page.frames().map(
      async (f) =>
        (await within(
          500,
          f.evaluate(() => location.href),
        )) ?? `${f.url()} (no answer)`,
    ),
  );
  throw new Error(
    `the tool's frame showed no heading; frames: ${shown.join(", ")}\nwhat the page did:\n${seen.join("\n")}`,
  );
}

/** What the browser refused to run or apply under the tool's Content-Security-Policy. */
const cspViolations: string[] = [];
afterEach(() => {
  expect(cspViolations.splice(0)).toEqual([]);
});

/** What each page asked for and was told, kept to explain a failure. */
const traffic = new WeakMap<Page, string[]>();
async function newPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  const seen: string[] = [];
  traffic.set(page, seen);
  const at = () => new Date().toISOString().slice(17, 23);
  const short = (u: string) => u.slice(0, 120);
  page.on("request", (r) => seen.push(`${at()} → ${r.method()} ${short(r.url())}`));
  page.on("response", (r) => seen.push(`${at()} ← ${r.status()} ${short(r.url())}`));
  page.on("requestfailed", (r) => seen.push(`${at()} ✗ ${short(r.url())} ${r.failure()?.errorText}`));
  page.on("console", (m) => {
    seen.push(`${at()} console.${m.type()}: ${m.text()}`);
    if (m.text().includes("Content Security Policy")) cspViolations.push(m.text());
  });
  page.on("pageerror", (e) => seen.push(`${at()} page error: ${e.message}`));
  page.on("framenavigated", (f) => seen.push(`${at()} frame navigated: ${short(f.url())}`));
  return page;
}

describe("a launch inside the LMS iframe with third-party cookies blocked", () => {
  it("succeeds through LTI Platform Storage when the LMS offers it, even with every tool cookie refused", async () => {
    const lms = await platform({ platformStorage: true });
    const browser = await launchBrowser({
      blockThirdPartyCookies: true,
      blockEmbeddedCookies: { origin: tool.url, embeddedIn: lms.url },
    });
    try {
      const page = await newPage(browser.context);
      await page.goto(`${lms.url}/course/view.php?id=2&user=candidate`);
      const { heading } = await toolHeading(page);
      expect(heading).toBe("Your HLTA preparation");
    } finally {
      await browser.close();
    }
  });

  it("succeeds through the partitioned cookie where the LMS has no Platform Storage (Moodle)", async () => {
    const lms = await platform({ platformStorage: false });
    const browser = await launchBrowser({ blockThirdPartyCookies: true });
    try {
      const page = await newPage(browser.context);
      await page.goto(`${lms.url}/course/view.php?id=2&user=candidate`);
      const { frame, heading } = await toolHeading(page);
      expect(heading).toBe("Your HLTA preparation");
      // The same page on a phone, 320 CSS pixels wide (WCAG 1.4.10): nothing scrolls sideways.
      const narrow = await newPage(browser.context);
      await narrow.setViewportSize({ width: 320, height: 640 });
      await narrow.goto(await frame.evaluate(() => location.href));
      expect(await narrow.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
    } finally {
      await browser.close();
    }
  });

  it("skips the cookie check on the next launch from the same browser, and still completes", async () => {
    const lms = await platform({ platformStorage: false });
    const browser = await launchBrowser({ blockThirdPartyCookies: true });
    try {
      const page = await newPage(browser.context);
      const checks: string[] = [];
      page.on("request", (r) => {
        if (r.url().startsWith(`${tool.url}/lti/login/check`)) checks.push(r.url());
      });
      await page.goto(`${lms.url}/course/view.php?id=2&user=candidate`);
      expect((await toolHeading(page)).heading).toBe("Your HLTA preparation");
      expect(checks).toHaveLength(1);
      // The check saw the state cookie come back, so it marked this browser, partitioned under
      // the LMS's site like the state cookie (which the launch deleted).
      const cookies = await browser.context.cookies();
      const lmsSite = `${new URL(lms.url).protocol}//${new URL(lms.url).hostname}`;
      expect(cookies.map((c) => c.name)).toEqual(["hlta_lti_ok"]);
      expect(cookies[0]).toMatchObject({ value: "1", sameSite: "None", partitionKey: lmsSite });
      await page.goto(`${lms.url}/course/view.php?id=2&user=candidate`);
      expect((await toolHeading(page)).heading).toBe("Your HLTA preparation");
      expect(checks).toHaveLength(1);
    } finally {
      await browser.close();
    }
  });

  it("offers a new window when no cookie can be kept in the frame, and the launch completes there", async () => {
    const lms = await platform({ platformStorage: false });
    const browser = await launchBrowser({
      blockThirdPartyCookies: true,
      blockEmbeddedCookies: { origin: tool.url, embeddedIn: lms.url },
    });
    try {
      const page = await newPage(browser.context);
      await page.goto(`${lms.url}/course/view.php?id=2&user=candidate`);
      const { frame, heading } = await toolHeading(page);
      expect(heading).toBe("Open the tool in a new window");
      const [popup] = await Promise.all([
        browser.context.waitForEvent("page", { timeout: 15_000 }),
        frame.getByRole("link", { name: "Open in a new window" }).click(),
      ]);
      await popup.waitForURL(`${tool.url}/app?**`, { timeout: 15_000 });
      expect(await popup.locator("h1").first().textContent()).toBe("Your HLTA preparation");
    } finally {
      await browser.close();
    }
  });
});
