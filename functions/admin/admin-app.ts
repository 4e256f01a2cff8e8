import { DynamoOutboxStore } from "../../adapters/dynamo/outbox.js";
import { logUnreadable } from "../../adapters/dynamo/unreadable.js";
import type { AdminParts } from "../web/compose.js";
import type { AppDeps } from "../web/deps.js";
import { createShell, type Mount } from "../web/shell.js";
import { adminRoutes } from "./routes/admin.js";
import { registrationRoutes } from "./routes/registration.js";
import { createXapiAdminRoutes, createXapiProfileRoutes } from "./routes/xapi.js";

/**
 * What administrators reach, and the few addresses an LMS's administrator or an LRS reads once:
 * the tool's administration pages (`/admin`), registration (`/lti/register…`, the Canvas JSON
 * `/lti/canvas.json`) and the HLTA xAPI Profile at its IRI path (public, cacheable).
 */
export const mountAdminRoutes: Mount = (app, deps) => {
  app.route("/", registrationRoutes(deps));
  app.route("/", adminRoutes(deps));
  app.route("/", createXapiProfileRoutes());
};

/** The admin function's app (`handler.ts`). */
export function createAdminApp(deps: AppDeps) {
  return createShell(deps, mountAdminRoutes);
}

/** The administration pages mounted under `/admin`: xAPI delivery (backlog, parked, replay). */
export function adminApps({ doc, tableName, log, lrsRoutes }: AdminParts): NonNullable<AppDeps["adminApps"]> {
  return [
    {
      path: "xapi",
      title: "xAPI delivery",
      app: createXapiAdminRoutes({
        outbox: new DynamoOutboxStore(doc, tableName, { onUnreadable: logUnreadable(log) }),
        routes: lrsRoutes,
      }),
    },
  ];
}
