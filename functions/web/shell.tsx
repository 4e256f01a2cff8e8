import { randomUUID } from "node:crypto";
import { type Context, Hono } from "hono";
import { AppError, NotFoundError } from "../../domain/errors.js";
import type { AppDeps } from "./deps.js";
import type { Env } from "./http.js";
import { ErrorPage } from "./views/error-page.js";
import { contentSecurityPolicy } from "./views/inline.js";

/** Headers every answer carries, the policy every HTML one; `set` writes one header. */
function secureHeaders(set: (name: string, value: string) => void, path: string, html: boolean): void {
  // Session tokens travel in URLs: never leak them through Referer.
  set("Referrer-Policy", "no-referrer");
  set("X-Content-Type-Options", "nosniff");
  // API Gateway answers https only; this keeps a browser from trying plain http first (RFC
  // 6797). Browsers ignore it on the plain-http local server.
  set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  if (!html) return;
  // Pages run only the tool's own inline scripts and styles (views/inline.ts). The administration
  // pages are the tool's own console, never in an LMS's frame: no site may frame them.
  const admin = path === "/admin" || path.startsWith("/admin/");
  set("Content-Security-Policy", contentSecurityPolicy(admin ? { frameAncestors: "'none'" } : {}));
}

/** Routes a function serves, mounted on the shell. */
export type Mount = (app: Hono<Env>, deps: AppDeps) => void;

/**
 * What every app of the tool shares around its routes: a reference per request, the security
 * headers, "no page at this address", and one place that maps errors to HTTP. The web function
 * (`web-app.ts`), the admin function (`functions/admin/admin-app.ts`) and `npm start` (both,
 * `app.tsx`) are this shell with their routes.
 */
export function createShell(deps: AppDeps, ...mounts: Mount[]) {
  const app = new Hono<Env>();

  app.use(async (c, next) => {
    c.set("reference", randomUUID().slice(0, 8));
    await next();
    // Set on the answer's own headers, as hono's secure-headers middleware does: `c.header()` on
    // an answer already made copies it into a new one whose body is a stream, which the Node
    // server then reads chunk by chunk (the launch benchmark's CPU profile showed it on every answer).
    const headers = c.res.headers;
    const html = headers.get("Content-Type")?.startsWith("text/html") ?? false;
    secureHeaders((name, value) => headers.set(name, value), c.req.path, html);
    if (!headers.has("Cache-Control")) headers.set("Cache-Control", "no-store");
  });

  app.get("/health", (c) => c.json({ ok: true }));
  for (const mount of mounts) mount(app, deps);

  app.notFound(() => {
    throw new NotFoundError("There is no page at this address.");
  });

  // One place maps errors to HTTP: known errors by their type, never by message text.
  app.onError((error, c) => {
    const reference = c.get("reference") ?? randomUUID().slice(0, 8);
    const known = error instanceof AppError ? error : undefined;
    const status = known?.status ?? 500;
    const log = status >= 500 ? deps.log.error : deps.log.warn;
    log(known ? known.code : "unhandled", {
      reference,
      // As the router matched it (percent-decoded), so the link in `/lti/%72egister/…` is found too.
      path: pathForLog(c.req.path),
      status,
      error,
      ...(known ? { context: known.context } : {}),
    });
    const problem = known?.toProblem(reference) ?? {
      type: "about:blank",
      title: "Something went wrong on our side",
      status: 500,
      detail: "The tool hit an unexpected problem. Nothing you saved is lost.",
      reference,
    };
    // An error thrown past the middleware above (a path no route matches) returns from here.
    secureHeaders((name, value) => c.header(name, value), c.req.path, wantsHtml(c));
    c.header("Cache-Control", "no-store");
    // A 401 names how to authenticate (RFC 9110 §11.6.1): the session token, as a Bearer token
    // (RFC 6750 §3) among the ways the tool takes it.
    if (status === 401) c.header("WWW-Authenticate", 'Bearer realm="hlta", error="invalid_token"');
    if (wantsHtml(c)) {
      return c.html(
        <ErrorPage
          title={problem.title}
          message={problem.detail}
          reference={reference}
          nextStep={known ? known.nextStep : "retry-later"}
          {...(known?.action ? { action: known.action } : {})}
        />,
        status as 400,
      );
    }
    return c.body(JSON.stringify(problem), status as 400, { "Content-Type": "application/problem+json" });
  });

  return app;
}

/**
 * The path as logs may keep it: a registration link is a credential (it registers an LMS until
 * it is spent, and a failed registration leaves it unspent), so only its first characters stay.
 */
export function pathForLog(path: string): string {
  return path.replace(/^(\/lti\/register\/)([^/]{0,6})[^/]*/, "$1$2…");
}

/** LMS-facing and page routes answer in HTML; APIs (and clients asking for JSON) in problem+json. */
function wantsHtml(c: Context): boolean {
  const accept = c.req.header("accept") ?? "";
  if (accept.includes("application/json") || accept.includes("application/problem+json")) return false;
  // As the router matched it (percent-decoded): `/%61pp` is /app.
  const path = c.req.path;
  // JSON APIs under the page paths (/admin/xapi/api/…) answer problem+json whoever asks.
  if (path.includes("/api/")) return false;
  return (
    path.startsWith("/lti/") ||
    path === "/app" ||
    path.startsWith("/app/") ||
    path.startsWith("/admin") ||
    accept.includes("text/html")
  );
}
