import type { AppDeps } from "./deps.js";
import { ltiRoutes } from "./routes/lti.js";
import { pageRoutes } from "./routes/pages.js";
import { createShell, type Mount } from "./shell.js";

/** What the LMS and its people reach: LTI login and launch, the tool's keys, deep linking, the pages. */
export const mountWebRoutes: Mount = (app, deps) => {
  app.route("/", ltiRoutes(deps));
  app.route("/", pageRoutes(deps));
};

/**
 * The web function's app (`handler.ts`): every launch and page, nothing an administrator alone
 * uses, so its bundle carries no administration code and its role deletes nothing.
 */
export function createWebApp(deps: AppDeps) {
  return createShell(deps, mountWebRoutes);
}
