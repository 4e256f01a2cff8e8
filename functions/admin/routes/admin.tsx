import { randomBytes } from "node:crypto";
import { type Context, Hono } from "hono";
import { UnauthorizedError, ValidationError } from "../../../domain/errors.js";
import * as z from "../../../domain/zod.js";
import { safeJson } from "../../../lti-tool/advantage/service-client.js";
import { KeyIdSchema } from "../../../lti-tool/claims.js";
import { timingSafeEqualText } from "../../../lti-tool/crypto.js";
import {
  createRegistrationLink,
  createRegistrationLinkOnce,
  LINK_DAYS,
  LINK_TOKEN_OR_ID,
  NewLinkSchema,
  type RegistrationLink,
} from "../../../lti-tool/registration-links.js";
import { adminKeyFingerprint } from "../../../lti-tool/tool-keys.js";
import type { AppDeps } from "../../web/deps.js";
import { type Env, sessionTokenFrom, singleFormFields, toolUrls } from "../../web/http.js";
import { AdminNav, type AdminPage, CORE_ADMIN_PAGES } from "../../web/views/admin-nav.js";
import { ButtonForm, Layout } from "../../web/views/layout.js";
import { utcMinute } from "../../web/views/time.js";

const ADMIN_AUDIENCE = "hlta-admin";
const ADMIN_SESSION_SECONDS = 30 * 60;

// The replay form echoes a parked job's own keys; bounded so a hand-edited form cannot make a
// key DynamoDB refuses (a sort key holds at most 1,024 bytes). Built on first use: only an
// administrator replays a grade.
const ReplaySchema = z.lazySchema(() => {
  const Part = z.string().check(z.minLength(1), z.maxLength(1024), z.maxUtf8Bytes(1024));
  return z.object({
    course: z.object({ issuer: Part, clientId: Part, deploymentId: Part, contextId: Part }),
    activityId: z.string().check(z.minLength(1), z.maxLength(128)),
    userId: KeyIdSchema,
    jobId: z.string().check(z.minLength(1), z.maxLength(128)),
  });
});

/**
 * Pages for the tool's administrators (the provider running the tool, not a school's LMS
 * admin): every registered platform and deployment with its last launch, parked grade posts,
 * and the xAPI delivery page. Signed in with the tool administrator key; the admin session then
 * travels as a sealed token like the LTI session. Signing out ends every admin session at once
 * (one key, so one administrator's sessions): the store keeps the instant they are valid from.
 */
export function adminRoutes(deps: AppDeps) {
  const app = new Hono<Env>();
  const now = () => deps.now?.() ?? new Date();

  const signInPage = (notice?: string) => (
    <Layout title="Tool administration">
      <h1>Tool administration</h1>
      {notice ? (
        <p class="panel" role="status">
          {notice}
        </p>
      ) : null}
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
    </Layout>
  );

  app.get("/admin", (c) => c.html(signInPage()));

  app.post("/admin/login", async (c) => {
    const key = (await singleFormFields(c)).key ?? "";
    // Read at each sign-in (deps.adminKey keeps no copy): a replaced key stops here at once.
    const storedKey = await deps.adminKey();
    const expected = Buffer.from(storedKey).toString("base64url");
    if (!timingSafeEqualText(key, expected)) {
      deps.log.warn("admin.login_refused", { reference: c.get("reference") });
      throw new UnauthorizedError("That administrator key is not right.");
    }
    const at = now();
    // `iat` is in whole seconds; `iatMs` says when to the millisecond, for the sign-out's instant.
    // `kf`: the key it was signed in with, so replacing the key ends it.
    const token = await deps.sessions.seal(
      ADMIN_AUDIENCE,
      { admin: true, iatMs: at.getTime(), kf: adminKeyFingerprint(storedKey) },
      ADMIN_SESSION_SECONDS,
      at,
    );
    return c.redirect(`/admin/platforms?s=${encodeURIComponent(token)}`, 303);
  });

  /**
   * The admin session `token` carries if it is still open, else undefined: sealed by the tool
   * for administrators, not expired, issued after every sign-out so far and with the key in use.
   * Both are read from the store on each request, so a sign-out or a replaced key holds on every
   * instance at once.
   */
  const openAdminSession = async (token: string | undefined) => {
    const payload = await deps.sessions.open(ADMIN_AUDIENCE, token, now()).catch(() => undefined);
    // A token without `iatMs` was issued before sign-out existed: it cannot be placed, so it ends.
    if (payload?.admin !== true || typeof payload.iatMs !== "number") return undefined;
    const [validFrom, key] = await Promise.all([
      deps.adminSessions.adminSessionsValidFrom(),
      deps.adminKey(),
    ]);
    if (payload.kf !== adminKeyFingerprint(key)) return undefined;
    // Strictly after: a sign-out ends the sessions issued up to its instant, that millisecond
    // included, so a token issued in the same second (or millisecond) as a sign-out is refused.
    if (validFrom !== undefined && payload.iatMs <= validFrom) return undefined;
    return { iatMs: payload.iatMs, exp: payload.exp };
  };

  app.post("/admin/sign-out", async (c) => {
    const session = await openAdminSession(await sessionTokenFrom(c));
    if (!session) {
      // Ended already (expired, signed out elsewhere, or no token): nothing to end, and a token
      // the tool cannot open may end no one's session.
      return c.html(
        signInPage(
          "Your sign-in had ended already. To end every other administration session too, sign in, then sign out.",
        ),
      );
    }
    // Never before this session's own start: the instance that issued it may run a clock ahead.
    await deps.adminSessions.endAdminSessions(new Date(Math.max(now().getTime(), session.iatMs)));
    deps.log.info("admin.signed_out", { reference: c.get("reference") });
    return c.html(signInPage("Signed out. Every administration session that was open has ended."));
  });

  const adminRequired = async (c: Context<Env>, next: () => Promise<void>) => {
    const payload = await openAdminSession(await sessionTokenFrom(c));
    if (!payload) {
      throw new UnauthorizedError(
        "Sign in as a tool administrator first: a sign-in lasts 30 minutes, or until someone signs out.",
        { action: { label: "Sign in", href: "/admin" } },
      );
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
          until a later <code>rotate</code>, run an hour or more after it stopped signing, removes it. For a
          leaked key, <code>rotate --now</code>.
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
    const parsed = NewLinkSchema().safeParse({ ...fields, ...(days ? { days } : {}) });
    if (!parsed.success) {
      throw new ValidationError("Say who the link is for (at most 200 characters) and for how many days.");
    }
    const s = c.req.query("s") ?? "";
    const options = { note: parsed.data.note, validDays: parsed.data.days ?? LINK_DAYS.default, now: now() };
    const requestId = parsed.data.request;
    const made = requestId
      ? await createRegistrationLinkOnce(deps.registrationLinks, { ...options, requestId })
      : await createRegistrationLink(deps.registrationLinks, options);
    if (!made) {
      // This form made its link already (a double click, a reload): its address was shown once.
      const links = await deps.registrationLinks.list(Math.floor(now().getTime() / 1000));
      const first = links.find((l) => l.requestId === requestId);
      return c.html(
        await linksPage(c, s, {
          links,
          notice: `This form was sent before: the link ${first ? `for ${first.note} ` : ""}was made then, and its address shown once. If it was not copied, remove that link below and make a new one.`,
        }),
      );
    }
    const { token } = made;
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
    const parsed = ReplaySchema().safeParse(safeJson((await singleFormFields(c)).job ?? ""));
    if (!parsed.success) throw new ValidationError("Which score to send again was not said.");
    const job = parsed.data;
    await deps.grades?.replay(job.course, job.activityId, job.userId, job.jobId);
    return c.redirect(`/admin/grades?s=${encodeURIComponent(c.req.query("s") ?? "")}`, 303);
  });

  for (const sub of deps.adminApps ?? []) app.route(`/admin/${sub.path}`, sub.app);

  return app;
}
