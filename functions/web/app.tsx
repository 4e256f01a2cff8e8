import { mountAdminRoutes } from "../admin/admin-app.js";
import type { AppDeps } from "./deps.js";
import { createShell } from "./shell.js";
import { mountWebRoutes } from "./web-app.js";

/**
 * The whole tool in one app, as `npm start` serves it and the tests drive it: the web function's
 * routes and the admin function's. Deployed, each function serves its own (infra/stacks).
 */
export function createApp(deps: AppDeps) {
  return createShell(deps, mountWebRoutes, mountAdminRoutes);
}
