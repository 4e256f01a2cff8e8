import { type Context, Hono } from "hono";
import { AppError } from "../../../domain/errors.js";
import { LrsRouteNotFoundError, ParkedStatementNotFoundError } from "../../../statements/errors.js";
import type {
  LrsRoute,
  LrsRouteStore,
  OutboxAdminStore,
  OutboxEntry,
  RouteBacklog,
} from "../../../statements/ports.js";
import { hltaProfile } from "../../../statements/profile.js";
import { PROFILE_IRI, PROFILE_VERSION_IRI } from "../../../statements/vocabulary.js";
import { type Env, singleFormFields } from "../../web/http.js";
import type { Child } from "../../web/jsx/jsx-runtime.js";
import { AdminNav } from "../../web/views/admin-nav.js";
import { ButtonForm, Layout } from "../../web/views/layout.js";
import { utcMinute } from "../../web/views/time.js";

/**
 * xAPI routes of the web app:
 * - `createXapiProfileRoutes()`: the HLTA xAPI Profile (JSON-LD) at its IRI path, public.
 * - `createXapiAdminRoutes(deps)`: the delivery admin page (backlog, delivered, parked with
 *   reason and the LRS's answer) and replay of parked statements. Mounted under
 *   `/admin/xapi` behind the tool-administrator check: this sub-app does not authenticate.
 *   A session token arriving as `?s=` is carried through its forms and redirects.
 */

const PROFILE_PATH = new URL(PROFILE_IRI).pathname;
const PROFILE_VERSION_PATH = new URL(PROFILE_VERSION_IRI).pathname;

/** Mount at the app root: `app.route("/", createXapiProfileRoutes())`. */
export function createXapiProfileRoutes() {
  const app = new Hono();
  // Written on the first request, as the profile is built on first use: no launch reads it.
  let body: string | undefined;
  const serve = (c: Context) => {
    body ??= JSON.stringify(hltaProfile(), null, 2);
    return c.body(body, 200, {
      "Content-Type": "application/ld+json; charset=utf-8",
      "Cache-Control": "public, max-age=3600",
      // LRSs and profile servers fetch it from other origins.
      "Access-Control-Allow-Origin": "*",
    });
  };
  app.get(PROFILE_PATH, serve);
  app.get(PROFILE_VERSION_PATH, serve);
  return app;
}

export interface XapiAdminDeps {
  outbox: OutboxAdminStore;
  routes: Pick<LrsRouteStore, "listRoutes" | "getRoute">;
  now?: () => Date;
  /** Parked statements listed per route on the page (newest first). */
  parkedPageSize?: number;
}

interface RouteView {
  route: LrsRoute;
  backlog: RouteBacklog;
  parked: OutboxEntry[];
}

function problemResponse(c: Context<Env>, error: AppError) {
  // The web app's middleware gives every request a reference (absent when mounted bare, in tests).
  const reference: string | undefined = c.get("reference");
  return c.body(JSON.stringify(error.toProblem(reference)), error.status as 400, {
    "Content-Type": "application/problem+json",
  });
}

export function createXapiAdminRoutes(deps: XapiAdminDeps) {
  const app = new Hono<Env>();
  const now = () => deps.now?.() ?? new Date();
  const pageSize = deps.parkedPageSize ?? 50;

  async function views(): Promise<RouteView[]> {
    const routes = await deps.routes.listRoutes();
    return Promise.all(
      routes.map(async (route) => {
        const [backlog, parked] = await Promise.all([
          deps.outbox.backlog(route.routeId),
          deps.outbox.listParked(route.routeId, pageSize),
        ]);
        return { route, backlog, parked };
      }),
    );
  }

  // Ids from the path go into DynamoDB keys: one too long for a key names nothing here.
  const routeIdOf = (c: Context) => {
    const routeId = c.req.param("routeId") ?? "";
    if (routeId.length > 200) {
      throw new LrsRouteNotFoundError("There is no LRS route with this id.", { context: {} });
    }
    return routeId;
  };
  const statementIdOf = (c: Context) => {
    const statementId = c.req.param("statementId") ?? "";
    if (statementId.length > 200) {
      throw new ParkedStatementNotFoundError("This statement is not parked here.", { context: {} });
    }
    return statementId;
  };

  async function requireRoute(routeId: string) {
    const route = await deps.routes.getRoute(routeId);
    if (!route)
      throw new LrsRouteNotFoundError("There is no LRS route with this id.", { context: { routeId } });
    return route;
  }

  // The JSON API answers its known errors as application/problem+json (RFC 9457). Everything
  // else, the HTML forms' errors and any unexpected failure, goes on to the web app's own error
  // handler, which logs it with the request's reference and answers a page or a problem.
  app.onError((error, c) => {
    if (error instanceof AppError && c.req.path.includes("/api/")) return problemResponse(c, error);
    throw error;
  });

  app.get("/api/routes", async (c) => {
    const all = await views();
    return c.json({
      routes: all.map(({ route, backlog, parked }) => ({
        routeId: route.routeId,
        name: route.name,
        endpoint: route.endpoint,
        scope: route.scope,
        enabled: route.enabled,
        backlog,
        parked: parked.map(parkedJson),
      })),
    });
  });

  app.post("/api/routes/:routeId/parked/replay", async (c) => {
    const routeId = routeIdOf(c);
    await requireRoute(routeId);
    return c.json({ replayed: await deps.outbox.replayAllParked(routeId, now()) });
  });

  app.post("/api/routes/:routeId/parked/:statementId/replay", async (c) => {
    const routeId = routeIdOf(c);
    const statementId = statementIdOf(c);
    await requireRoute(routeId);
    if (!(await deps.outbox.replayParked(routeId, statementId, now()))) {
      throw new ParkedStatementNotFoundError(
        "This statement is not parked (it may have been replayed already).",
        {
          context: { routeId, statementId },
        },
      );
    }
    return c.json({ replayed: 1 });
  });

  // HTML forms: post, then redirect back to the page with a notice (post/redirect/get).
  const pageUrl = (c: Context, session: string | undefined, notice: string) => {
    const path = c.req.path;
    const base = path.slice(0, path.indexOf("/routes/")) || "/";
    const params = new URLSearchParams({ notice, ...(session ? { s: session } : {}) });
    return `${base}?${params.toString()}`;
  };
  const sessionOf = async (c: Context) => {
    const type = c.req.header("content-type") ?? "";
    if (!type.includes("form")) return undefined;
    return (await singleFormFields(c)).s;
  };

  app.post("/routes/:routeId/parked/replay", async (c) => {
    const routeId = routeIdOf(c);
    const session = await sessionOf(c);
    const count = await deps.outbox.replayAllParked(routeId, now());
    return c.redirect(pageUrl(c, session, `${count} parked statement(s) sent back to the queue.`), 303);
  });

  app.post("/routes/:routeId/parked/:statementId/replay", async (c) => {
    const routeId = routeIdOf(c);
    const statementId = statementIdOf(c);
    const session = await sessionOf(c);
    const done = await deps.outbox.replayParked(routeId, statementId, now());
    const notice = done
      ? `Statement ${statementId} sent back to the queue.`
      : `Statement ${statementId} was not parked any more; nothing to do.`;
    return c.redirect(pageUrl(c, session, notice), 303);
  });

  app.get("/", async (c) => {
    const base = c.req.path.replace(/\/+$/, "");
    const session = c.req.query("s");
    const notice = c.req.query("notice");
    // Mounted under /admin, the administrator's other pages are a link away (`adminPages`).
    const pages = c.get("adminPages");
    const nav =
      pages && session ? (
        <AdminNav
          s={session}
          pages={pages}
          current={base.split("/").pop() ?? ""}
          until={c.get("adminUntil")}
        />
      ) : null;
    return c.html(
      <XapiAdminPage views={await views()} base={base} session={session} notice={notice} nav={nav} />,
    );
  });

  return app;
}

function parkedJson(e: OutboxEntry) {
  return {
    statementId: e.statementId,
    eventType: e.eventType,
    attempts: e.attempts,
    createdAt: e.createdAt,
    parkedAt: e.parked?.parkedAt,
    reason: e.parked?.reason,
    lrsStatus: e.parked?.lrsStatus,
    lrsBody: e.parked?.lrsBody,
  };
}

function count(n: number, capped: boolean) {
  return capped ? `${n}+` : String(n);
}

function XapiAdminPage(props: {
  views: RouteView[];
  base: string;
  session?: string | undefined;
  notice?: string | undefined;
  nav?: Child;
}) {
  return (
    <Layout title="xAPI delivery">
      <h1>xAPI delivery</h1>
      {props.nav}
      <p class="lede">
        Statements wait in the outbox until their Learning Record Store accepts them. A statement the LRS
        cannot accept is parked with the LRS's answer; fix the cause (often the LRS's settings), then replay
        it.
      </p>
      {props.notice ? (
        <div class="panel" role="status">
          {props.notice}
        </div>
      ) : null}
      {props.views.length === 0 ? <p>No LRS is configured yet, so no statements are sent.</p> : null}
      {props.views.map(({ route, backlog, parked }) => (
        <section aria-labelledby={`route-${route.routeId}`}>
          <h2 id={`route-${route.routeId}`}>
            {route.name} {route.enabled ? "" : "(disabled)"}
          </h2>
          <p>
            <code>{route.endpoint}</code> · for {route.scope.issuer}
            {route.scope.deploymentId ? ` deployment ${route.scope.deploymentId}` : " (whole platform)"}
          </p>
          <table>
            <thead>
              <tr>
                <th>waiting</th>
                <th>delivered (recent)</th>
                <th>parked</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <td>{count(backlog.pending, backlog.capped)}</td>
                <td>{count(backlog.delivered, backlog.capped)}</td>
                <td>{count(backlog.parked, backlog.capped)}</td>
              </tr>
            </tbody>
          </table>
          {backlog.lastFailure ? (
            <div class="panel error" role="status">
              <p>
                Waiting statements are being tried again: the last attempt failed (
                {backlog.lastFailure.attempts} attempt(s) so far; next{" "}
                {utcMinute(backlog.lastFailure.nextAttemptAt)} UTC).
              </p>
              <pre class="wrap">{backlog.lastFailure.error}</pre>
              <p>
                If the LRS refuses the route's key and secret, or its address has changed, give the route new
                ones with <code>npm run lrs -- credentials</code>: its waiting statements then go on their
                own.
              </p>
            </div>
          ) : null}
          {parked.length > 0 ? (
            <>
              <h3>Parked statements</h3>
              <ButtonForm
                action={`${props.base}/routes/${encodeURIComponent(route.routeId)}/parked/replay`}
                fields={{ s: props.session || undefined }}
                label="Replay all parked statements"
              />
              <table>
                <thead>
                  <tr>
                    <th>statement</th>
                    <th>why it is parked</th>
                    <th>LRS answer</th>
                    <th>action</th>
                  </tr>
                </thead>
                <tbody>
                  {parked.map((e) => (
                    <tr>
                      <td>
                        <code>{e.statementId}</code>
                        <br />
                        {e.eventType ?? ""} · {e.attempts} attempt(s) · parked {e.parked?.parkedAt ?? ""}
                      </td>
                      <td>{e.parked?.reason ?? ""}</td>
                      <td>
                        {e.parked?.lrsStatus !== undefined ? `HTTP ${e.parked.lrsStatus}` : "no answer"}
                        {e.parked?.lrsBody ? (
                          <details>
                            <summary>body</summary>
                            <pre class="wrap">{e.parked.lrsBody}</pre>
                          </details>
                        ) : null}
                      </td>
                      <td>
                        <ButtonForm
                          action={`${props.base}/routes/${encodeURIComponent(route.routeId)}/parked/${encodeURIComponent(e.statementId)}/replay`}
                          fields={{ s: props.session || undefined }}
                          label="Replay"
                        />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
        </section>
      ))}
    </Layout>
  );
}
