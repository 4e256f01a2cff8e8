import { describe, expect, it } from "vitest";
import { createAdminApp } from "../../../functions/admin/admin-app.js";
import { createWebApp } from "../../../functions/web/web-app.js";
import { ADMIN_PATHS, servedByAdmin } from "../../../infra/api-routes.js";
import { memoryApp } from "../../support/memory-app.js";
import { testPlatform } from "../../support/test-platform.js";
import { xapiAdminPage } from "../statements/fakes.js";

/** A request path a route pattern matches (`:id` and `*` filled in). */
const concrete = (pattern: string) => pattern.replace(/:[^/]+/g, "x").replace(/\*$/, "x");

/**
 * Each app's own routes and middleware (a session check on `/app/*`, the admin check on each
 * admin path), without the shell's (`/health`, the middleware on every path).
 */
function routesOf(app: ReturnType<typeof createWebApp>): string[] {
  return [...new Set(app.routes.filter((r) => r.path !== "/health" && r.path !== "/*").map((r) => r.path))];
}

describe("the web and admin functions, and the HTTP API's split of paths between them", () => {
  it("serves each route from the function the HTTP API sends its path to", async () => {
    const { deps } = await memoryApp(await testPlatform(), { adminApps: [xapiAdminPage()] });
    const web = routesOf(createWebApp(deps));
    const admin = routesOf(createAdminApp(deps));
    // Both apps are whole: the launch and the pages in one, registration and the console in the other.
    expect(web).toEqual(
      expect.arrayContaining(["/lti/login", "/lti/launch", "/.well-known/jwks.json", "/app"]),
    );
    expect(admin).toEqual(expect.arrayContaining(["/admin", "/lti/register/:link", "/lti/canvas.json"]));
    expect(admin.some((p) => p.startsWith("/admin/xapi/"))).toBe(true);
    expect(admin.some((p) => p.startsWith("/xapi/profile"))).toBe(true);
    expect(web.filter((p) => servedByAdmin(concrete(p)))).toEqual([]);
    expect(admin.filter((p) => !servedByAdmin(concrete(p)))).toEqual([]);
  });

  it("matches a `{proxy+}` path only with a segment below it, and a plain path exactly", () => {
    expect(ADMIN_PATHS).toContain("/admin/{proxy+}");
    expect(servedByAdmin("/admin")).toBe(true);
    expect(servedByAdmin("/admin/links")).toBe(true);
    expect(servedByAdmin("/admin/")).toBe(false);
    expect(servedByAdmin("/administrator")).toBe(false);
    expect(servedByAdmin("/lti/register/abc/save")).toBe(true);
    expect(servedByAdmin("/lti/registered")).toBe(false);
    expect(servedByAdmin("/lti/login")).toBe(false);
    expect(servedByAdmin("/xapi")).toBe(false);
  });

  it("answers only its own paths: the other function's are not found", async () => {
    const { deps } = await memoryApp(await testPlatform());
    const web = createWebApp(deps);
    const admin = createAdminApp(deps);
    expect((await web.request("/.well-known/jwks.json")).status).toBe(200);
    expect((await admin.request("/lti/canvas.json")).status).toBe(200);
    expect((await admin.request("/xapi/profile")).status).toBe(200);
    expect((await web.request("/lti/canvas.json")).status).toBe(404);
    expect((await web.request("/admin", { headers: { accept: "text/html" } })).status).toBe(404);
    expect((await admin.request("/.well-known/jwks.json")).status).toBe(404);
    expect((await admin.request("/lti/login?iss=x")).status).toBe(404);
  });
});
