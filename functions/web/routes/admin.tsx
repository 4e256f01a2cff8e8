import { type Context, Hono } from "hono";
import { UnauthorizedError, ValidationError } from "../../../domain/errors.js";
import * as z from "../../../domain/zod.js";
import { safeJson } from "../../../lti-tool/advantage/service-client.js";
import { KeyIdSchema } from "../../../lti-tool/claims.js";
import { timingSafeEqualText } from "../../../lti-tool/crypto.js";
import type { AppDeps } from "../deps.js";
import { type Env, sessionTokenFrom, singleFormFields } from "../http.js";
import { Layout } from "../views/layout.js";

const ADMIN_AUDIENCE = "hlta-admin";

// The replay form echoes a parked job's own keys; bounded so a hand-edited form cannot make a
// key DynamoDB refuses (a sort key holds at most 1,024 bytes).
const Part = z.string().check(z.minLength(1), z.maxLength(1024), z.maxUtf8Bytes(1024));
const ReplaySchema = z.object({
  course: z.object({ issuer: Part, clientId: Part, deploymentId: Part, contextId: Part }),
  activityId: z.string().check(z.minLength(1), z.maxLength(128)),
  userId: KeyIdSchema,
  jobId: z.string().check(z.minLength(1), z.maxLength(128)),
});

/**
 * Pages for the tool's administrators (the provider running the tool, not a school's LMS
 * admin): every registered platform and deployment with its last launch, parked grade posts,
 * and the xAPI delivery page. Signed in with the tool administrator key; the admin session then
 * travels as a sealed token like the LTI session.
 */
export function adminRoutes(deps: AppDeps) {
  const app = new Hono<Env>();
  const now = () => deps.now?.() ?? new Date();

  app.get("/admin", (c) =>
    c.html(
      <Layout title="Tool administration">
        <h1>Tool administration</h1>
        <form method="post" action="/admin/login">
          <p>
            <label for="key">Administrator key</label>
            <br />
            <input id="key" name="key" type="password" autocomplete="current-password" required size={50} />
          </p>
          <button class="button" type="submit">
            Sign in
          </button>
        </form>
      </Layout>,
    ),
  );

  app.post("/admin/login", async (c) => {
    const key = (await singleFormFields(c)).key ?? "";
    const expected = Buffer.from(await deps.adminKey()).toString("base64url");
    if (!timingSafeEqualText(key, expected)) {
      deps.log.warn("admin.login_refused", { reference: c.get("reference") });
      throw new UnauthorizedError("That administrator key is not right.");
    }
    const token = await deps.sessions.seal(ADMIN_AUDIENCE, { admin: true }, 30 * 60, now());
    return c.redirect(`/admin/platforms?s=${encodeURIComponent(token)}`, 303);
  });

  const adminRequired = async (c: Context<Env>, next: () => Promise<void>) => {
    const token = await sessionTokenFrom(c);
    const payload = await deps.sessions.open(ADMIN_AUDIENCE, token, now()).catch(() => undefined);
    if (payload?.admin !== true) throw new UnauthorizedError("Sign in as a tool administrator at /admin.");
    await next();
  };
  for (const path of [
    "/admin/platforms",
    "/admin/grades",
    "/admin/grades/*",
    ...(deps.adminApps ?? []).map((a) => `/admin/${a.path}/*`),
    ...(deps.adminApps ?? []).map((a) => `/admin/${a.path}`),
  ]) {
    app.use(path, adminRequired);
  }

  const nav = (s: string) => (
    <p>
      <a href={`/admin/platforms?s=${encodeURIComponent(s)}`}>Platforms</a> ·{" "}
      <a href={`/admin/grades?s=${encodeURIComponent(s)}`}>Parked grades</a>
      {(deps.adminApps ?? []).map((a) => (
        <>
          {" "}
          · <a href={`/admin/${a.path}?s=${encodeURIComponent(s)}`}>{a.title}</a>
        </>
      ))}
    </p>
  );

  app.get("/admin/platforms", async (c) => {
    const s = c.req.query("s") ?? "";
    const platforms = await deps.registrations.listPlatforms();
    return c.html(
      <Layout title="Registered platforms">
        <h1>Registered platforms</h1>
        {nav(s)}
        <p class="lede">
          Rotate the tool's signing key with <code>npm run keys -- rotate</code> (add{" "}
          <code>--table NAME</code> for a deployed stack): the new key signs at once and the previous one
          stays published, so platforms that cached the keyset keep working.
        </p>
        <table>
          <thead>
            <tr>
              <th scope="col">Platform</th>
              <th scope="col">Client id</th>
              <th scope="col">Deployments (last launch)</th>
              <th scope="col">Last launch</th>
            </tr>
          </thead>
          <tbody>
            {platforms.map(({ platform, deployments }) => (
              <tr data-issuer={platform.issuer}>
                <td>
                  {platform.name ?? platform.issuer}
                  <br />
                  <small>{platform.issuer}</small>
                </td>
                <td>
                  <code>{platform.clientId}</code>
                </td>
                <td>
                  {deployments.length === 0
                    ? "none yet"
                    : deployments.map((d) => (
                        <div>
                          <code>{d.deploymentId}</code> (
                          {d.lastLaunchAt?.slice(0, 16).replace("T", " ") ?? "never"})
                        </div>
                      ))}
                </td>
                <td>{platform.lastLaunchAt?.slice(0, 16).replace("T", " ") ?? "never"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Layout>,
    );
  });

  app.get("/admin/grades", async (c) => {
    const s = c.req.query("s") ?? "";
    const parked = (await deps.grades?.parked()) ?? [];
    return c.html(
      <Layout title="Parked grades">
        <h1>Scores the LMS did not accept</h1>
        {nav(s)}
        {parked.length === 0 ? (
          <p class="panel">No parked scores: every score reached its gradebook or is still being retried.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Course</th>
                <th scope="col">Activity</th>
                <th scope="col">Why</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {parked.map((j) => (
                <tr>
                  <td>
                    {j.course.issuer} / {j.course.contextId}
                  </td>
                  <td>{j.activityId}</td>
                  <td>
                    {j.lastError?.reason}
                    {j.lastError?.status ? ` (HTTP ${j.lastError.status})` : ""}
                    {j.lastError?.body ? <pre>{j.lastError.body}</pre> : null}
                  </td>
                  <td>
                    <form method="post" action={`/admin/grades/replay?s=${encodeURIComponent(s)}`}>
                      <input
                        type="hidden"
                        name="job"
                        value={JSON.stringify({
                          course: j.course,
                          activityId: j.activityId,
                          userId: j.userId,
                          jobId: j.jobId,
                        })}
                      />
                      <button class="button" type="submit">
                        Send again
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Layout>,
    );
  });

  app.post("/admin/grades/replay", async (c) => {
    const parsed = ReplaySchema.safeParse(safeJson((await singleFormFields(c)).job ?? ""));
    if (!parsed.success) throw new ValidationError("Which score to send again was not said.");
    const job = parsed.data;
    await deps.grades?.replay(job.course, job.activityId, job.userId, job.jobId);
    return c.redirect(`/admin/grades?s=${encodeURIComponent(c.req.query("s") ?? "")}`, 303);
  });

  for (const sub of deps.adminApps ?? []) app.route(`/admin/${sub.path}`, sub.app);

  return app;
}
