import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** Debian's Chromium (installed by .ci/run); `npx playwright install` cannot download browsers here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

/**
 * A fresh headless Chromium profile. `blockThirdPartyCookies` sets the profile preference the
 * settings page sets ("Block third-party cookies"), as incognito Chrome does by default;
 * Chromium still keeps partitioned cookies (CHIPS) then. `blockEmbeddedCookies` blocks every
 * cookie of one origin while it is embedded under another (a content-settings exception for
 * that pair), as a browser without CHIPS does; top-level, its cookies still work. Measured:
 * a plain cookie is refused and a partitioned one kept with the first; both refused in the
 * frame and both kept top-level with the second.
 */
export async function launchBrowser(options: {
  blockThirdPartyCookies: boolean;
  blockEmbeddedCookies?: { origin: string; embeddedIn: string };
}) {
  const userDataDir = mkdtempSync(join(tmpdir(), "hlta-chromium-"));
  mkdirSync(join(userDataDir, "Default"), { recursive: true });
  writeFileSync(
    join(userDataDir, "Default", "Preferences"),
    JSON.stringify({
      profile: {
        // CookieControlsMode: 0 off, 1 block third-party, 2 block in incognito only.
        cookie_controls_mode: options.blockThirdPartyCookies ? 1 : 0,
        block_third_party_cookies: options.blockThirdPartyCookies,
        ...(options.blockEmbeddedCookies
          ? {
              content_settings: {
                exceptions: {
                  cookies: {
                    [`${options.blockEmbeddedCookies.origin},${options.blockEmbeddedCookies.embeddedIn}`]: {
                      setting: 2,
                    },
                  },
                },
              },
            }
          : {}),
      },
    }),
  );
  // Site isolation off: with the LMS and the tool in separate renderer processes (an
  // out-of-process iframe), Playwright sometimes kept tracking the tool's frame at its old
  // document (the LMS's auth page) after the tool's cross-site form posts and never saw it
  // navigate again, about one run in three under load. Only the switch turns it off
  // (`--disable-features=site-per-process`, often quoted, names no feature; measured: the frame
  // stayed a separate "iframe" target). Cookie rules (third-party blocking, partitioning, the
  // per-site exception) are the network service's and do not depend on it: the blocked-cookie
  // tests still see their cookies refused.
  const disabled = ["Translate", "MediaRouter", "OptimizationHints"];
  const context: BrowserContext = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-site-isolation-trials",
      `--disable-features=${disabled.join(",")}`,
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
