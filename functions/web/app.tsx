import { randomUUID } from "node:crypto";
import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { AppError, NotFoundError, NotImplementedYetError, ValidationError } from "../../domain/errors.js";
import { LaunchFormSchema } from "../../lti-tool/claims.js";
import { sha256b64url } from "../../lti-tool/crypto.js";
import {
  InvalidLaunchRequestError,
  PlatformReturnedError,
  UnknownStateError,
} from "../../lti-tool/errors.js";
import { validateLaunch } from "../../lti-tool/launch.js";
import { initiateLogin } from "../../lti-tool/login.js";
import type { Session } from "../../lti-tool/session.js";
import type { AppDeps } from "./deps.js";
import { CohortPage } from "./views/cohort-page.js";
import { ErrorPage } from "./views/error-page.js";
import { StandardsPage } from "./views/standards-page.js";

type Env = { Variables: { session: Session; reference: string } };

/** The state cookie: one per login (several launches may run at once in one browser). */
const stateCookieName = (state: string) => `hlta_lti_${state.slice(0, 16)}`;

export function createApp(deps: AppDeps) {
  const app = new Hono<Env>();
  const now = () => deps.now?.() ?? new Date();
  const base = (c: Context) => deps.config.publicUrl ?? new URL(c.req.url).origin;
  const urls = (c: Context) => {
    const b = base(c);
    return {
      login: `${b}/lti/login`,
      launch: `${b}/lti/launch`,
      jwks: `${b}/.well-known/jwks.json`,
      registration: `${b}/lti/register`,
      canvasConfig: `${b}/lti/canvas.json`,
    };
  };

  app.use(async (c, next) => {
    c.set("reference", randomUUID().slice(0, 8));
    await next();
    // Session tokens travel in URLs: never leak them through Referer.
    c.header("Referrer-Policy", "no-referrer");
    c.header("X-Content-Type-Options", "nosniff");
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
  });

  app.get("/health", (c) => c.json({ ok: true }));

  app.get("/.well-known/jwks.json", async (c) => {
    c.header("Cache-Control", "public, max-age=300");
    return c.json(await deps.signer.jwks());
  });

  // OIDC login initiation: GET or POST (Moodle POSTs from the browser).
  app.on(["GET", "POST"], "/lti/login", async (c) => {
    const params = c.req.method === "POST" ? await formFields(c) : c.req.query();
    const result = await initiateLogin(params, {
      registrations: deps.registrations,
      states: deps.states,
      redirectUri: urls(c).launch,
      now,
    });
    setCookie(c, stateCookieName(result.state), result.browserSecret, {
      path: "/lti",
      httpOnly: true,
      secure: true,
      sameSite: "None",
      partitioned: true,
      maxAge: result.stateTtlSeconds,
    });
    deps.log.info("lti.login", {
      issuer: result.platform.issuer,
      clientId: result.platform.clientId,
      binding: result.binding,
    });
    // Check the cookie stuck before spending the platform's (possibly single-use) lti_message_hint.
    return c.redirect(`${base(c)}/lti/login/check?state=${encodeURIComponent(result.state)}`, 302);
  });

  // Cookie check: the browser came back with the state cookie, so the launch can be bound to it.
  // Without it (third-party cookies blocked, no partitioned cookies), open the tool top-level,
  // where the cookie is first-party: the platform has not seen this login yet, so nothing is spent.
  app.get("/lti/login/check", async (c) => {
    const state = c.req.query("state") ?? "";
    const pending = state ? await deps.states.peekState(state) : undefined;
    if (!pending) {
      throw new UnknownStateError(
        "This launch was not started by the tool, or it took too long. Please launch the tool again from your course.",
      );
    }
    const secret = getCookie(c, stateCookieName(state));
    if (secret && sha256b64url(secret) === pending.bindingHash)
      return c.redirect(pending.authRedirectUrl, 302);
    const relaunch = `${urls(c).login}?${new URLSearchParams(pending.loginParams).toString()}`;
    deps.log.warn("lti.login.cookie_blocked", { issuer: pending.issuer, reference: c.get("reference") });
    return c.html(
      <ErrorPage
        title="Open the tool in a new window"
        message="Your browser blocks the cookie the tool needs to confirm a launch inside your course page. Opening it in a new window works in every browser, and nothing is lost."
        reference={c.get("reference")}
        action={{ label: "Open in a new window", href: relaunch, newWindow: true }}
      />,
    );
  });

  app.post("/lti/launch", async (c) => {
    const parsed = LaunchFormSchema.safeParse(await formFields(c));
    if (!parsed.success) {
      throw new InvalidLaunchRequestError(
        "The LMS sent the launch without its token. Please launch the tool again from your course.",
      );
    }
    if ("error" in parsed.data) {
      throw new PlatformReturnedError(
        `Your LMS refused the launch (${parsed.data.error}${parsed.data.error_description ? `: ${parsed.data.error_description}` : ""}).`,
        { context: { error: parsed.data.error } },
      );
    }
    const { id_token: idToken, state } = parsed.data;
    const cookieName = stateCookieName(state);
    const browserSecret = getCookie(c, cookieName);
    const at = now();
    const launch = await validateLaunch(
      { idToken, state, browserSecret },
      {
        registrations: deps.registrations,
        states: deps.states,
        platformKeys: deps.platformKeys,
        now: () => at,
      },
    );
    deleteCookie(c, cookieName, { path: "/lti", secure: true, sameSite: "None", partitioned: true });
    if (!launch.user.role) {
      return c.html(
        <ErrorPage
          title="No role in this course"
          message="Your LMS did not say whether you are a candidate or a tutor in this course, so the tool cannot show you anything yet. Ask your course administrator to check your enrolment."
          reference={c.get("reference")}
        />,
        403,
      );
    }
    if (launch.messageType === "LtiDeepLinkingRequest") {
      throw new NotImplementedYetError("Choosing an activity to place in your course is not available yet.");
    }
    await Promise.all([
      deps.launches.recordLaunch(launch, at),
      deps.registrations.recordLaunch(
        launch.tenant.issuer,
        launch.tenant.clientId,
        launch.tenant.deploymentId,
        at.toISOString(),
      ),
    ]);
    const context = launch.claims["https://purl.imsglobal.org/spec/lti/claim/context"];
    const token = await deps.sessions.issue(
      {
        course: launch.course,
        userId: launch.user.sub,
        role: launch.user.role,
        ...(launch.user.name ? { name: launch.user.name } : {}),
        ...(launch.user.locale ? { locale: launch.user.locale } : {}),
        ...(context?.title ? { courseTitle: context.title } : {}),
      },
      at,
    );
    deps.log.info("lti.launch", {
      issuer: launch.tenant.issuer,
      deploymentId: launch.tenant.deploymentId,
      role: launch.user.role,
      reference: c.get("reference"),
    });
    // Post/redirect/get: a reload of the first page must not replay the launch.
    return c.redirect(`/app?s=${encodeURIComponent(token)}`, 303);
  });

  app.get("/lti/register", () => {
    throw new NotImplementedYetError(
      "Dynamic registration is not available yet: register the tool by hand with the URLs in the README.",
    );
  });
  app.get("/lti/canvas.json", () => {
    throw new NotImplementedYetError("The Canvas configuration URL is not available yet.");
  });

  // Pages after launch: the session comes as a signed token (query `s`, form field `s` or Bearer header).
  app.use("/app/*", sessionRequired(deps));
  app.use("/app", sessionRequired(deps));
  app.get("/app", async (c) => {
    const session = c.get("session");
    if (session.role === "candidate") {
      return c.html(
        <StandardsPage
          framework={deps.framework}
          statusOf={() => "not_started"}
          {...(session.name ? { name: session.name } : {})}
          {...(session.courseTitle ? { courseTitle: session.courseTitle } : {})}
          {...(session.locale ? { locale: session.locale } : {})}
        />,
      );
    }
    const everyone = await deps.cohort.listCourse(session.course);
    return c.html(
      <CohortPage
        candidates={everyone.filter((e) => e.role === "candidate")}
        {...(session.courseTitle ? { courseTitle: session.courseTitle } : {})}
        {...(session.locale ? { locale: session.locale } : {})}
      />,
    );
  });

  app.notFound(() => {
    throw new NotFoundError("There is no page at this address.");
  });

  app.onError((error, c) => {
    const reference = c.get("reference") ?? randomUUID().slice(0, 8);
    const known = error instanceof AppError ? error : undefined;
    const status = known?.status ?? 500;
    const log = status >= 500 ? deps.log.error : deps.log.warn;
    log(known ? `${known.code}` : "unhandled", {
      reference,
      path: new URL(c.req.url).pathname,
      status,
      error,
      ...(known ? { context: known.context } : {}),
    });
    const problem = known?.toProblem(reference) ?? {
      type: "about:blank",
      title: "Something went wrong on our side",
      status: 500,
      detail: "The tool hit an unexpected problem. Nothing you saved is lost; please try again.",
      reference,
    };
    if (wantsHtml(c)) {
      return c.html(
        <ErrorPage title={problem.title} message={problem.detail} reference={reference} />,
        status as 400,
      );
    }
    return c.body(JSON.stringify(problem), status as 400, { "Content-Type": "application/problem+json" });
  });

  return app;
}

/** LMS-facing and page routes answer in HTML; APIs (and clients asking for JSON) in problem+json. */
function wantsHtml(c: Context): boolean {
  const accept = c.req.header("accept") ?? "";
  if (accept.includes("application/json") || accept.includes("application/problem+json")) return false;
  const path = new URL(c.req.url).pathname;
  return (
    path.startsWith("/lti/") || path === "/app" || path.startsWith("/app/") || accept.includes("text/html")
  );
}

async function formFields(c: Context): Promise<Record<string, string>> {
  const type = c.req.header("content-type") ?? "";
  if (!type.includes("application/x-www-form-urlencoded") && !type.includes("multipart/form-data")) {
    throw new ValidationError("Expected a form post (application/x-www-form-urlencoded).");
  }
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}

function sessionRequired(deps: AppDeps) {
  return async (c: Context<Env>, next: () => Promise<void>) => {
    const header = c.req.header("authorization");
    const bearer = header?.startsWith("Bearer ") ? header.slice(7) : undefined;
    let token = c.req.query("s") ?? bearer;
    if (!token && c.req.method === "POST") token = (await formFields(c)).s;
    c.set("session", await deps.sessions.verify(token, deps.now?.()));
    await next();
  };
}
