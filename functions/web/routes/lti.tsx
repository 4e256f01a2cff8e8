import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { ACTIVITIES, findActivity } from "../../../domain/activities.js";
import { ForbiddenError, ValidationError } from "../../../domain/errors.js";
import * as z from "../../../domain/zod.js";
import { CLAIM, type DeepLinkingClaims, LaunchFormSchema } from "../../../lti-tool/claims.js";
import { randomToken } from "../../../lti-tool/crypto.js";
import {
  buildDeepLinkingResponse,
  type DeepLinkingContext,
  deepLinkingContext,
  type ResourceLinkItem,
} from "../../../lti-tool/deep-linking.js";
import {
  DeepLinkingAnswerReplayedError,
  InvalidLaunchRequestError,
  InvalidLoginRequestError,
  LaunchTooLargeError,
  PlatformReturnedError,
  StateNotBoundError,
  undefinedIfInvalid,
} from "../../../lti-tool/errors.js";
import { checkLaunch, isResourceLinkLaunch, type ValidatedLaunch } from "../../../lti-tool/launch.js";
import { authRequestUrl, initiateLogin } from "../../../lti-tool/login.js";
import { holdsBrowserSecret, unknownStateError } from "../../../lti-tool/login-state.js";
import { JWKS_MAX_AGE_SECONDS } from "../../../lti-tool/tool-keys.js";
import type { AppDeps } from "../deps.js";
import {
  COOKIES_WORK_COOKIE,
  type Env,
  formFields,
  singleFormFields,
  stateCookieName,
  storageKey,
  toolUrls,
} from "../http.js";
import { ErrorPage } from "../views/error-page.js";
import { ActivityPickerPage, AutoPostPage, GetDataPage, PutDataPage } from "../views/lti-pages.js";

const DL_AUDIENCE = "hlta-deep-linking";
const CHECK_AUDIENCE = "hlta-login-check";
/** OIDC authentication errors (OIDC Core §3.1.2.6) a person mends by signing in to their LMS again. */
const SIGN_IN_AGAIN = new Set(["login_required", "interaction_required", "consent_required"]);
/** The error codes of OIDC Core §3.1.2.6 and OAuth 2.0 (RFC 6749 §4.2.2.1) an LMS may answer with. */
const OIDC_ERRORS = new Set([
  ...SIGN_IN_AGAIN,
  "account_selection_required",
  "invalid_request_uri",
  "invalid_request_object",
  "request_not_supported",
  "request_uri_not_supported",
  "registration_not_supported",
  "invalid_request",
  "unauthorized_client",
  "access_denied",
  "unsupported_response_type",
  "invalid_scope",
  "server_error",
  "temporarily_unavailable",
]);
/**
 * What the picker page carries back, sealed: checked again, as everything that went through a
 * browser. Built on first use: only deep linking reads it, never a resource link launch.
 */
const DeepLinkingSealSchema = z.lazySchema(() =>
  z.object({
    /** Spent when the answer goes to the LMS: one answer per picker. */
    once: z.string().check(z.minLength(16)),
    exp: z.number(),
    ctx: z.object({
      issuer: z.string(),
      clientId: z.string(),
      deploymentId: z.string(),
      returnUrl: z.url(),
      data: z.optional(z.string()),
      acceptMultiple: z.boolean(),
      acceptLineItem: z.boolean(),
    }),
  }),
);
const CheckSchema = z.object({
  state: z.string().check(z.minLength(1)),
  loginParams: z.record(z.string(), z.string()),
});
/** The "cookies work here" marker: partitioned like the state cookie, kept for a week. */
const COOKIES_WORK_OPTIONS = {
  path: "/lti",
  httpOnly: true,
  secure: true,
  sameSite: "None",
  partitioned: true,
  maxAge: 7 * 24 * 3600,
} as const;

/**
 * Whether the tool's own page sent this request: the browser says so (`Sec-Fetch-Site`), or the
 * `Origin` is the tool's. Neither header from an old browser: not ours, to be safe.
 */
function postedByOwnPage(c: import("hono").Context<Env>, deps: AppDeps): boolean {
  if (c.req.header("sec-fetch-site") === "same-origin") return true;
  const origin = c.req.header("origin");
  return origin !== undefined && origin === new URL(toolUrls(c, deps).base).origin;
}

/** Which activity a resource link launch opens: the deep-linked custom parameter, else its target URL. */
export function launchActivity(launch: ValidatedLaunch): string {
  const custom = launch.claims[CLAIM.custom]?.activity;
  if (typeof custom === "string" && findActivity(custom)) return custom;
  const path = new URL(launch.claims[CLAIM.targetLinkUri]).pathname;
  const m = path.match(/\/app\/activity\/([^/]+)$/);
  const fromPath = m?.[1] ? decodedSegment(m[1]) : undefined;
  return fromPath && findActivity(fromPath) ? fromPath : "home";
}

/** A path segment decoded, or undefined when its escapes are broken (`%zz`): no such activity. */
function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function ltiRoutes(deps: AppDeps) {
  const app = new Hono<Env>();
  const now = () => deps.now?.() ?? new Date();

  app.get("/.well-known/jwks.json", async (c) => {
    // Rotation publishes a key longer ahead than this before it signs (ROTATION_LEAD_MS).
    c.header("Cache-Control", `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    return c.json(await deps.signer.jwks());
  });

  // OIDC login initiation: GET or POST (Moodle POSTs from the browser).
  app.on(["GET", "POST"], "/lti/login", async (c) => {
    const params = c.req.method === "POST" ? await singleFormFields(c) : c.req.query();
    // Opened in a browser (an administrator checking the address): say what it is for.
    if (c.req.method === "GET" && Object.keys(params).length === 0) {
      throw new InvalidLoginRequestError(
        "This address receives logins from your LMS when someone opens the tool: it has nothing to show on its own.",
      );
    }
    const urls = toolUrls(c, deps);
    const result = await initiateLogin(params, {
      registrations: deps.registrations,
      states: deps.states,
      redirectUri: urls.launch,
      now,
    });
    // The partitioned cookie binds the login to this browser wherever cookies work (CHIPS).
    setCookie(c, stateCookieName(result.state), result.browserSecret, {
      path: "/lti",
      httpOnly: true,
      secure: true,
      sameSite: "None",
      partitioned: true,
      maxAge: result.stateTtlSeconds,
    });
    const cookiesWork = getCookie(c, COOKIES_WORK_COOKIE) === "1";
    deps.log.info("lti.login", {
      issuer: result.platform.issuer,
      clientId: result.platform.clientId,
      binding: result.binding,
      cookiesWork,
    });
    // The check carries what it needs, sealed: the state (itself sealed) and the login request,
    // in an address the tool's gateway must accept (API Gateway: 10,240 bytes of request line
    // and headers). Only hints far longer than any LMS sends take it past that.
    const checkUrl = async () => {
      const sealed = await deps.sessions
        .seal(
          CHECK_AUDIENCE,
          { state: result.state, loginParams: result.loginParams },
          result.stateTtlSeconds,
          now(),
          { inUrl: true },
        )
        .catch((error: unknown) => {
          if (!(error instanceof LaunchTooLargeError)) throw error;
          throw new InvalidLoginRequestError(
            "Your LMS started the launch with more than the tool can carry in a web address (very long login or message hints). Ask your LMS administrator to check the tool's configuration.",
            { cause: error, context: { issuer: result.platform.issuer } },
          );
        });
      return `${urls.loginCheck}?c=${encodeURIComponent(sealed)}`;
    };
    if (result.binding === "platform-storage" && result.storageTarget) {
      // The platform offers storage: put the secret there too, so blocked cookies do not matter.
      return c.html(
        <PutDataPage
          storageTarget={result.storageTarget}
          platformOrigin={result.platformOrigin}
          storageKey={storageKey(result.state)}
          value={result.browserSecret}
          authUrl={result.authRedirectUrl}
          fallbackUrl={await checkUrl()}
        />,
      );
    }
    // This browser sent back the tool's cookie in this LMS's frame before: cookies stick here.
    if (cookiesWork) return c.redirect(result.authRedirectUrl, 302);
    // Check the cookie stuck before spending the platform's (possibly single-use) lti_message_hint.
    return c.redirect(await checkUrl(), 302);
  });

  // Cookie check: the browser came back with the state cookie, so the launch can be bound to it.
  // Without it (third-party cookies blocked, no partitioned cookies), open the tool top-level,
  // where the cookie is first-party: the platform has not seen this login yet, so nothing is spent.
  app.get("/lti/login/check", async (c) => {
    const at = now();
    // A forged or expired check is the user's problem (400 below); failing to load our own
    // secret is ours, and goes on as a 500.
    const opened = await deps.sessions.open(CHECK_AUDIENCE, c.req.query("c"), at).catch(undefinedIfInvalid);
    const check = CheckSchema.safeParse(opened);
    const login = check.success
      ? await deps.states.open(check.data.state, Math.floor(at.getTime() / 1000))
      : undefined;
    const loginHint = check.data?.loginParams.login_hint;
    const platform = login && (await deps.registrations.getPlatform(login.issuer, login.clientId));
    if (!check.success || !login || !platform || !loginHint) {
      throw unknownStateError();
    }
    const { state, loginParams } = check.data;
    const secret = getCookie(c, stateCookieName(state));
    if (holdsBrowserSecret(login, secret)) {
      setCookie(c, COOKIES_WORK_COOKIE, "1", COOKIES_WORK_OPTIONS);
      const messageHint = loginParams.lti_message_hint;
      const auth = authRequestUrl(platform, {
        redirectUri: toolUrls(c, deps).launch,
        loginHint,
        ...(messageHint !== undefined ? { messageHint } : {}),
        state,
        nonce: login.nonce,
      });
      return c.redirect(auth.toString(), 302);
    }
    const relaunch = `${toolUrls(c, deps).login}?${new URLSearchParams(loginParams).toString()}`;
    deps.log.warn("lti.login.cookie_blocked", { issuer: login.issuer, reference: c.get("reference") });
    return c.html(
      <ErrorPage
        title="Open the tool in a new window"
        message="Your browser blocks the cookie the tool needs to confirm a launch inside your course page. Opening it in a new window works in every browser, and nothing is lost."
        reference={c.get("reference")}
        action={{ label: "Open in a new window", href: relaunch, newWindow: true }}
      />,
    );
  });

  // Addresses an LMS sends a launch to (the redirect URL; the deep linking URL is a launch's
  // target): opened in a browser, they say so, rather than "no page at this address".
  const launchesOnly = () => {
    throw new InvalidLaunchRequestError(
      "This address receives launches from your LMS: it has nothing to show on its own.",
      { nextStep: "relaunch" },
    );
  };
  app.get("/lti/launch", launchesOnly);
  app.on(["GET", "POST"], "/lti/deep-link", launchesOnly);

  app.post("/lti/launch", async (c) => {
    const fields = await singleFormFields(c);
    const parsed = LaunchFormSchema.safeParse(fields);
    if (!parsed.success) {
      throw new InvalidLaunchRequestError("The LMS sent the launch without its token.", {
        nextStep: "relaunch",
      });
    }
    if ("error" in parsed.data) {
      const error = parsed.data.error.slice(0, 100);
      // Anyone can post an error here. The LMS's own words are quoted only for a login this
      // browser started (the state the tool sealed, and its cookie: OIDC returns the state with
      // an error); otherwise the page would show whatever text another site posted, on the
      // tool's address. Then only an error code OIDC and OAuth define is named.
      const state = parsed.data.state;
      const pending = state ? await deps.states.open(state, Math.floor(now().getTime() / 1000)) : undefined;
      const fromOurLogin =
        state !== undefined &&
        pending !== undefined &&
        holdsBrowserSecret(pending, getCookie(c, stateCookieName(state)));
      const description = fromOurLogin ? parsed.data.error_description?.slice(0, 500) : undefined;
      const shown = fromOurLogin || OIDC_ERRORS.has(error) ? error : undefined;
      throw new PlatformReturnedError(
        shown === undefined
          ? "Your LMS refused the launch."
          : `Your LMS refused the launch (${shown}${description ? `: ${description}` : ""}).`,
        // OIDC: the person's LMS session ended or needs them; signing in and opening it again mends it.
        {
          context: { error, fromOurLogin },
          ...(SIGN_IN_AGAIN.has(error) ? { nextStep: "relaunch" as const } : {}),
        },
      );
    }
    const { id_token: idToken, state } = parsed.data;
    const cookieName = stateCookieName(state);
    const cookieSecret = getCookie(c, cookieName);
    const cookiesWorkMarker = getCookie(c, COOKIES_WORK_COOKIE);
    // The Platform Storage secret comes back only through our own GetDataPage, a same-origin
    // post; the field in a post from anywhere else is ignored (it could carry an attacker's
    // secret to log this browser in to the attacker's launch).
    const formSecret = postedByOwnPage(c, deps) ? fields.lti_storage_secret : undefined;
    const browserSecret = cookieSecret ?? formSecret;
    const secretVia = cookieSecret !== undefined ? "cookie" : formSecret ? "platform-storage" : undefined;
    if (!browserSecret) {
      const pending = await deps.states.open(state, Math.floor(now().getTime() / 1000));
      const target = pending?.storageTarget;
      const platform =
        pending?.binding === "platform-storage" && target
          ? await deps.registrations.getPlatform(pending.issuer, pending.clientId)
          : undefined;
      if (target && platform) {
        // No cookie came back: read the secret from the platform's storage, then post again.
        return c.html(
          <GetDataPage
            storageTarget={target}
            platformOrigin={new URL(platform.authUrl).origin}
            storageKey={storageKey(state)}
            action={toolUrls(c, deps).launch}
            idToken={idToken}
            state={state}
          />,
        );
      }
    }
    const at = now();
    // Checked, not yet spent: each way out below records the single use of state and nonce
    // before it acts, alone (markUsed) or in the launch's own transaction (recordLaunch).
    const launch = await checkLaunch(
      { idToken, state, browserSecret, secretVia },
      {
        registrations: deps.registrations,
        states: deps.states,
        platformKeys: deps.platformKeys,
        now: () => at,
        toolOrigin: new URL(toolUrls(c, deps).base).origin,
      },
    ).catch((error: unknown) => {
      // The marker said cookies stick here, yet the state cookie did not come back: stop
      // trusting it, so the next login checks the cookie before spending the LMS's hint.
      if (error instanceof StateNotBoundError && cookiesWorkMarker !== undefined) {
        deleteCookie(c, COOKIES_WORK_COOKIE, COOKIES_WORK_OPTIONS);
      }
      throw error;
    });
    if (cookieSecret !== undefined && cookiesWorkMarker !== "1") {
      setCookie(c, COOKIES_WORK_COOKIE, "1", COOKIES_WORK_OPTIONS);
    }
    // The state cookie goes once the login is spent, not before: a launch whose writes fail has
    // spent nothing, and the same post (a reload) must still find its cookie.
    const spent = () =>
      deleteCookie(c, cookieName, { path: "/lti", secure: true, sameSite: "None", partitioned: true });
    const spend = async () => {
      await deps.states.markUsed(launch.loginState);
      spent();
    };
    const role = launch.user.role;
    if (!role) {
      await spend();
      return c.html(
        <ErrorPage
          title="No role in this course"
          message="Your LMS did not say whether you are a candidate or a tutor in this course, so the tool cannot show you anything yet. Ask your course administrator to check your enrolment."
          reference={c.get("reference")}
        />,
        403,
      );
    }
    if (!isResourceLinkLaunch(launch.claims)) return deepLinkingPicker(c, launch, launch.claims, at, spend);

    const activity = launchActivity(launch);
    // The session first: it writes nothing, and one that cannot be built (too big for a URL)
    // must fail before the login is spent.
    const context = launch.claims[CLAIM.context];
    const token = await deps.sessions.issue(
      {
        course: launch.course,
        userId: launch.user.sub,
        role,
        activity,
        resourceLinkId: launch.claims[CLAIM.resourceLink].id,
        ...(launch.user.name ? { name: launch.user.name } : {}),
        ...(launch.user.locale ? { locale: launch.user.locale } : {}),
        ...(context?.title ? { courseTitle: context.title } : {}),
      },
      at,
    );
    await deps.launches.recordLaunch(launch, at, activity);
    spent();
    // After the launch's own transaction, so a refused replay touches nothing (this write is
    // throttled by the registration cache: most launches skip it). Bookkeeping only: the login
    // is spent by now, so its failure is logged and the person still gets in.
    await deps.registrations
      .recordLaunch(
        launch.tenant.issuer,
        launch.tenant.clientId,
        launch.tenant.deploymentId,
        at.toISOString(),
      )
      .catch((error: unknown) =>
        deps.log.warn("lti.last_launch_not_recorded", {
          issuer: launch.tenant.issuer,
          deploymentId: launch.tenant.deploymentId,
          reference: c.get("reference"),
          error,
        }),
      );
    deps.log.info("lti.launch", {
      issuer: launch.tenant.issuer,
      deploymentId: launch.tenant.deploymentId,
      role,
      activity,
      reference: c.get("reference"),
    });
    // Post/redirect/get: a reload of the first page must not replay the launch.
    return c.redirect(`/app?s=${encodeURIComponent(token)}`, 303);
  });

  async function deepLinkingPicker(
    c: import("hono").Context<Env>,
    launch: ValidatedLaunch,
    claims: DeepLinkingClaims,
    at: Date,
    /** Marks the login used, and forgets its cookie. */
    spend: () => Promise<void>,
  ) {
    if (launch.user.role === "candidate") {
      await spend();
      throw new ForbiddenError("Only tutors and administrators can add HLTA activities to a course.");
    }
    // The tool offers resource links only (Deep Linking 2.0 §4.4.1): an LMS asking for other
    // kinds of content would refuse the answer without saying why, so the tool says it here.
    const settings = claims[CLAIM.deepLinkingSettings];
    if (!settings.accept_types.includes("ltiResourceLink")) {
      await spend();
      throw new InvalidLaunchRequestError(
        `Your LMS asked for ${settings.accept_types.slice(0, 5).join(", ")} here, and HLTA preparation adds only activities (LTI resource links). Add it from the place in your course where external tool activities are added.`,
        { context: { acceptTypes: settings.accept_types } },
      );
    }
    const ctx = deepLinkingContext(claims, launch.platform.clientId);
    // Sealed before the login is spent: a seal that cannot be built fails with nothing spent.
    const sealed = await deps.sessions.seal(DL_AUDIENCE, { ctx, once: randomToken(16) }, 30 * 60, at);
    await spend();
    deps.log.info("lti.deep_linking", { issuer: ctx.issuer, deploymentId: ctx.deploymentId });
    return c.html(
      <ActivityPickerPage
        activities={ACTIVITIES}
        sealed={sealed}
        action={toolUrls(c, deps).deepLinkRespond}
        multiple={ctx.acceptMultiple}
        {...(launch.user.locale ? { locale: launch.user.locale } : {})}
      />,
    );
  }

  // The tutor's choice goes back to the LMS as a signed LtiDeepLinkingResponse, auto-posted.
  app.post("/lti/deep-link/respond", async (c) => {
    const form = await formFields(c);
    const dl = typeof form.dl === "string" ? form.dl : undefined;
    const opened = DeepLinkingSealSchema().safeParse(await deps.sessions.open(DL_AUDIENCE, dl, now()));
    if (dl === undefined || !opened.success)
      throw new ValidationError("This page has expired. Please start again from your course.");
    const ctx: DeepLinkingContext = opened.data.ctx;
    // Each activity once: the same one twice would place two links, and two gradebook columns.
    const chosen = [
      ...new Set(
        ([] as unknown[]).concat(form.activity ?? []).filter((v): v is string => typeof v === "string"),
      ),
    ];
    const activities = chosen.map((id) => findActivity(id));
    const urls = toolUrls(c, deps);
    if (chosen.length === 0 || activities.some((a) => !a)) {
      // The same picker again, with the reason beside the list: the tutor's way on is one tick away.
      deps.log.info("lti.deep_linking.nothing_chosen", { issuer: ctx.issuer, chosen: chosen.length });
      return c.html(
        <ActivityPickerPage
          activities={ACTIVITIES}
          sealed={dl}
          action={urls.deepLinkRespond}
          multiple={ctx.acceptMultiple}
          error={
            chosen.length === 0
              ? `Choose ${ctx.acceptMultiple ? "at least one" : "one"} of the activities below, then select Add to course.`
              : "Choose from the activities listed below: the tool does not know one of those chosen."
          }
        />,
        400,
      );
    }
    const items: ResourceLinkItem[] = activities.flatMap((a) =>
      a
        ? [
            {
              type: "ltiResourceLink" as const,
              title: a.title.en,
              text: a.description.en,
              url: urls.activity(a.id),
              custom: { activity: a.id },
              ...(a.grading
                ? {
                    lineItem: {
                      scoreMaximum: a.grading.scoreMaximum,
                      label: a.grading.label,
                      resourceId: a.id,
                      tag: "hlta",
                    },
                  }
                : {}),
            },
          ]
        : [],
    );
    const jwt = await buildDeepLinkingResponse(ctx, items, deps.signer, now());
    // Signed first, then spent: a response that cannot be signed leaves the page unspent.
    // One answer per picker page: the same page sent again (the back button, a reload, a copied
    // form) would add the activities, and their gradebook columns, to the course a second time.
    if (!(await deps.states.spendOnce(ctx.issuer, opened.data.once, opened.data.exp))) {
      throw new DeepLinkingAnswerReplayedError(
        // Certain is that the page was used: whether the LMS got that answer (a lost reply can
        // spend the page with nothing sent) only the course shows.
        "This page has already been used to add activities. Check your course for them; to add more, start again from your course.",
        { context: { issuer: ctx.issuer, deploymentId: ctx.deploymentId } },
      );
    }
    return c.html(
      <AutoPostPage
        title="Adding to your course…"
        action={ctx.returnUrl}
        fields={{ JWT: jwt }}
        message="Adding the activities to your course…"
      />,
    );
  });

  return app;
}
