import type { AppDeps } from "../../functions/web/deps.js";
import { createRegistrationLink } from "../../lti-tool/registration-links.js";
import { memoryApp } from "./memory-app.js";
import { CLIENT_ID, ISSUER, sign, testPlatform, validClaims } from "./test-platform.js";

/** A urlencoded form post, as a browser sends one (with any further request headers). */
export const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  body: new URLSearchParams(fields).toString(),
});

/** The login initiation Moodle posts (POSTed, deployment "1"). */
export const loginFields = {
  iss: ISSUER,
  login_hint: "user-1",
  target_link_uri: "https://tool.test/app",
  lti_message_hint: "hint-1",
  client_id: CLIENT_ID,
  lti_deployment_id: "1",
};

export interface LaunchOptions {
  dropCookie?: boolean;
  deps?: (p: Awaited<ReturnType<typeof testPlatform>>) => Partial<AppDeps>;
}

/**
 * Drive the login and its cookie check through the in-memory app as a browser would, up to the
 * platform's auth redirect; `post` then sends an id_token to the launch endpoint with the state
 * and the browser's cookie.
 */
export async function beginLaunch(opts: LaunchOptions = {}) {
  const p = await testPlatform();
  const { app, enrolments } = await memoryApp(p, opts.deps?.(p));
  const login = await app.request("/lti/login", form(loginFields));
  const setCookie = login.headers.get("set-cookie") ?? "";
  const cookie = setCookie.split(";")[0] ?? "";
  const check = await app.request(login.headers.get("location") ?? "", { headers: { cookie } });
  const auth = new URL(check.headers.get("location") ?? "");
  const post = (idToken: string, headers: Record<string, string> = {}) =>
    app.request("/lti/launch", {
      ...form({ id_token: idToken, state: auth.searchParams.get("state") ?? "" }),
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(opts.dropCookie ? {} : { cookie }),
        ...headers,
      },
    });
  return { p, app, enrolments, login, check, auth, setCookie, post };
}

/** Drive login → launch through the app as a browser would, returning the launch response. */
export async function launch(
  edit: (c: Record<string, unknown>) => void = () => {},
  opts: LaunchOptions = {},
) {
  const started = await beginLaunch(opts);
  const claims = validClaims(started.auth.searchParams.get("nonce") ?? "");
  edit(claims);
  const idToken = await sign(claims, started.p.signingKey);
  const response = await started.post(idToken);
  /** The same launch POST again (a replay), answered as problem+json to read its type. */
  const replay = () => started.post(idToken, { accept: "application/problem+json" });
  return { ...started, response, replay };
}

/** A registration link the provider made (as on /admin/links): the path an LMS is given. */
export async function registrationLinkPath(
  deps: Pick<AppDeps, "registrationLinks">,
  note = "a school's LMS",
) {
  const { token } = await createRegistrationLink(deps.registrationLinks, { note });
  return `/lti/register/${token}`;
}
