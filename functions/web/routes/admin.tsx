import { randomBytes } from "node:crypto";
import { type Context, Hono } from "hono";
import { UnauthorizedError, ValidationError } from "../../../domain/errors.js";
import * as z from "../../../domain/zod.js";
import { safeJson } from "../../../lti-tool/advantage/service-client.js";
import { KeyIdSchema } from "../../../lti-tool/claims.js";
import { timingSafeEqualText } from "../../../lti-tool/crypto.js";
import {
  createRegistrationLink,
  LINK_DAYS,
  LINK_TOKEN_OR_ID,
  NewLinkSchema,
  type RegistrationLink,
} from "../../../lti-tool/registration-links.js";
import type { AppDeps } from "../deps.js";
import { type Env, sessionTokenFrom, singleFormFields, toolUrls } from "../http.js";
import { AdminNav, type AdminPage, CORE_ADMIN_PAGES } from "../views/admin-nav.js";
import { ButtonForm, Layout } from "../views/layout.js";
import { utcMinute } from "../views/time.js";

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
            <input id="key" name="key" type="password" autocomplete="current-password" required />
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
    if (payload?.admin !== true) {
      throw new UnauthorizedError("Sign in as a tool administrator first: your sign-in lasts 30 minutes.", {
        action: { label: "Sign in", href: "/admin" },
      });
    }
    c.set("adminPages", adminPages);
    if (typeof payload.exp === "number") c.set("adminUntil", payload.exp);
    await next();
  };
  const adminPages: AdminPage[] = [
    ...CORE_ADMIN_PAGES,
    ...(deps.adminApps ?? []).map(({ path, title }) => ({ path, title })),
  ];
  for (const path of [
    "/admin/platforms",
    "/admin/links",
    "/admin/links/*",
    "/admin/grades",
    "/admin/grades/*",
    ...(deps.adminApps ?? []).map((a) => `/admin/${a.path}/*`),
    ...(deps.adminApps ?? []).map((a) => `/admin/${a.path}`),
  ]) {
    app.use(path, adminRequired);
  }

  const nav = (c: Context<Env>, s: string, current: string) => (
    <AdminNav s={s} pages={adminPages} current={current} until={c.get("adminUntil")} />
  );

  app.get("/admin/platforms", async (c) => {
    const s = c.req.query("s") ?? "";
    const platforms = await deps.registrations.listPlatforms();
    return c.html(
      <Layout title="Registered platforms">
        <h1>Registered platforms</h1>
        {nav(c, s, "platforms")}
        <p class="lede">
          Rotate the tool's signing key with <code>npm run keys -- rotate</code> (add{" "}
          <code>--table NAME</code> for a deployed stack): the new key is published at once and signs from
          seven minutes later, when every platform's cached keyset has it; the key it replaces stays published
          an hour after. For a leaked key, <code>rotate --now</code>.
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
                          {d.lastLaunchAt !== undefined ? utcMinute(d.lastLaunchAt) : "never"})
                        </div>
                      ))}
                </td>
                <td>{platform.lastLaunchAt !== undefined ? utcMinute(platform.lastLaunchAt) : "never"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Layout>,
    );
  });

  const linksPage = async (
    c: Context<Env>,
    s: string,
    shown: {
      /** A link just made: its address, shown this once. */
      created?: { url: string; note: string };
      /** The live links when the caller has read them already. */
      links?: readonly RegistrationLink[];
      notice?: string;
    } = {},
  ) => {
    const { created, notice } = shown;
    const listed = shown.links ?? (await deps.registrationLinks.list(Math.floor(now().getTime() / 1000)));
    const day = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().slice(0, 10);
    return (
      <Layout title="Registration links">
        <h1>Registration links</h1>
        {nav(c, s, "links")}
        <p class="lede">
          An LMS registers the tool (LTI Dynamic Registration) only with a link made here: one link per LMS,
          used once, until it expires. Give the link to the LMS's administrator, who pastes it into the LMS
          (Moodle: Site administration → Plugins → External tool → Manage tools; Canvas: Developer Keys → LTI
          Registration).
        </p>
        {notice ? (
          <div class="panel" role="status">
            {notice}
          </div>
        ) : null}
        {created ? (
          <div class="panel" id="created">
            <p>
              New link for <strong>{created.note}</strong>. Copy it now: the tool keeps only a fingerprint of
              it and cannot show it again.
            </p>
            <p>
              <code>{created.url}</code>
            </p>
          </div>
        ) : null}
        <form method="post" action={`/admin/links?s=${encodeURIComponent(s)}`}>
          {/* Sent again by a reload of the page that answered it: no second link. */}
          <input type="hidden" name="request" value={randomBytes(16).toString("base64url")} />
          <p>
            <label for="note">Who the link is for</label>
            <br />
            <input id="note" name="note" required maxlength={200} placeholder="St Mary's Moodle" />
          </p>
          <p>
            <label for="days">Valid for (days, at most {LINK_DAYS.max})</label>
            <br />
            <input
              id="days"
              name="days"
              type="number"
              min={1}
              max={LINK_DAYS.max}
              value={String(LINK_DAYS.default)}
            />
          </p>
          <button class="button" type="submit">
            Create a registration link
          </button>
        </form>
        <h2>Links not yet expired</h2>
        {listed.length === 0 ? (
          <p>None.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">For</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Used by</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {listed.map((l) => (
                <tr>
                  <td>{l.note}</td>
                  <td>{l.createdAt.slice(0, 10)}</td>
                  <td>{day(l.expiresAt)}</td>
                  <td>
                    {l.usedBy ? (
                      <>
                        {l.usedBy.issuer} (client id <code>{l.usedBy.clientId}</code>)
                      </>
                    ) : (
                      "not used yet"
                    )}
                  </td>
                  <td>
                    <ButtonForm
                      action={`/admin/links/remove?s=${encodeURIComponent(s)}`}
                      fields={{ id: l.id }}
                      label="Remove"
                      accessibleLabel={`Remove the link for ${l.note}`}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Layout>
    );
  };

  app.get("/admin/links", async (c) => c.html(await linksPage(c, c.req.query("s") ?? "")));

  app.post("/admin/links", async (c) => {
    const { days, ...fields } = await singleFormFields(c);
    // An emptied "days" field means the default.
    const parsed = NewLinkSchema.safeParse({ ...fields, ...(days ? { days } : {}) });
    if (!parsed.success) {
      throw new ValidationError("Say who the link is for (at most 200 characters) and for how many days.");
    }
    const s = c.req.query("s") ?? "";
    const requestId = parsed.data.request;
    if (requestId) {
      const links = await deps.registrationLinks.list(Math.floor(now().getTime() / 1000));
      const made = links.find((l) => l.requestId === requestId);
      if (made) {
        return c.html(
          await linksPage(c, s, {
            links,
            notice: `This form was sent before: the link for ${made.note} was made then, and its address shown once. If it was not copied, remove that link below and make a new one.`,
          }),
        );
      }
    }
    const { token } = await createRegistrationLink(deps.registrationLinks, {
      note: parsed.data.note,
      validDays: parsed.data.days ?? LINK_DAYS.default,
      now: now(),
      ...(requestId ? { requestId } : {}),
    });
    const url = toolUrls(c, deps).registrationLink(token);
    deps.log.info("admin.registration_link_created", { note: parsed.data.note });
    return c.html(await linksPage(c, s, { created: { url, note: parsed.data.note } }), 201);
  });

  app.post("/admin/links/remove", async (c) => {
    const id = (await singleFormFields(c)).id ?? "";
    if (!LINK_TOKEN_OR_ID.test(id)) throw new ValidationError("Which link to remove was not said.");
    await deps.registrationLinks.remove(id);
    return c.redirect(`/admin/links?s=${encodeURIComponent(c.req.query("s") ?? "")}`, 303);
  });

  app.get("/admin/grades", async (c) => {
    const s = c.req.query("s") ?? "";
    const parked = (await deps.grades?.parked()) ?? [];
    return c.html(
      <Layout title="Parked grades">
        <h1>Scores the LMS did not accept</h1>
        {nav(c, s, "grades")}
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
                    <ButtonForm
                      action={`/admin/grades/replay?s=${encodeURIComponent(s)}`}
                      fields={{
                        job: JSON.stringify({
                          course: j.course,
                          activityId: j.activityId,
                          userId: j.userId,
                          jobId: j.jobId,
                        }),
                      }}
                      label="Send again"
                    />
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
