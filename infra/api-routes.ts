/**
 * How the HTTP API splits the tool's paths between its two internet-facing functions: these go
 * to the admin function (functions/admin/admin-app.ts), every other to the web function
 * (functions/web/web-app.ts), through `$default`. In HTTP API route paths, `{proxy+}` matches
 * one or more segments below. A unit test holds each app's routes to this split.
 */
export const ADMIN_PATHS = [
  "/admin",
  "/admin/{proxy+}",
  "/lti/register",
  "/lti/register/{proxy+}",
  "/lti/canvas.json",
  "/xapi/{proxy+}",
] as const;

/** Whether the HTTP API sends a request for `path` (as API Gateway sees it) to the admin function. */
export function servedByAdmin(path: string): boolean {
  return ADMIN_PATHS.some((route) =>
    route.endsWith("/{proxy+}")
      ? path.startsWith(route.slice(0, -"{proxy+}".length)) && path.length > route.length - "{proxy+}".length
      : path === route,
  );
}
