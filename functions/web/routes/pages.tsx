import { type Context, Hono } from "hono";
import { findActivity } from "../../../domain/activities.js";
import type { AppDeps } from "../deps.js";
import { type Env, sessionTokenFrom } from "../http.js";
import { loadCohort } from "../services/cohort.js";
import { CohortPage } from "../views/cohort-page.js";
import { ActivityPage, AdministratorPage } from "../views/lti-pages.js";
import { StandardsPage } from "../views/standards-page.js";

/** Pages after launch. The session comes as a signed token: query `s`, form field `s`, or a Bearer header. */
export function pageRoutes(deps: AppDeps) {
  const app = new Hono<Env>();

  const sessionRequired = async (c: Context<Env>, next: () => Promise<void>) => {
    c.set("session", await deps.sessions.verify(await sessionTokenFrom(c), deps.now?.()));
    await next();
  };
  app.use("/app", sessionRequired);
  app.use("/app/*", sessionRequired);

  app.get("/app", async (c) => {
    const session = c.get("session");
    const activity = findActivity(session.activity ?? "home");
    const locale = session.locale ? { locale: session.locale } : {};
    const home = !activity || activity.kind === "home" || activity.kind === "cohort-view";
    // The cohort is the tutors' only (domain/activities.ts): an administrator sees no one's work.
    if (session.role === "administrator" && home) {
      return c.html(
        <AdministratorPage {...(session.courseTitle ? { courseTitle: session.courseTitle } : {})} />,
      );
    }
    if (session.role === "tutor" && home) {
      const [enrolments, platform] = await Promise.all([
        deps.cohort.listCourse(session.course),
        deps.registrations.getPlatform(session.course.issuer, session.course.clientId),
      ]);
      const cohort = await loadCohort({
        course: session.course,
        platform,
        enrolments,
        cache: deps.roster,
        nrps: deps.nrps,
        log: deps.log,
        ...(deps.now ? { now: deps.now() } : {}),
      });
      return c.html(
        <CohortPage
          cohort={cohort}
          {...(session.courseTitle ? { courseTitle: session.courseTitle } : {})}
          {...locale}
        />,
      );
    }
    if (activity && activity.kind !== "home" && activity.kind !== "cohort-view") {
      return c.html(<ActivityPage activity={activity} {...locale} />);
    }
    return c.html(
      <StandardsPage
        framework={deps.framework}
        statusOf={() => "not_started"}
        {...(session.name ? { name: session.name } : {})}
        {...(session.courseTitle ? { courseTitle: session.courseTitle } : {})}
        {...locale}
      />,
    );
  });

  return app;
}
