/**
 * The development platform's HTML: a plain stand-in for Moodle's pages. The two auto-submit
 * forms are shaped like Moodle's (`ltiInitiateLoginForm`, `ltiAuthForm`): hidden inputs and a
 * one-line script, so a browser, the launch driver or a person with scripts off (the button)
 * can all carry the launch on.
 */

import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { DocumentTarget } from "./message-hint.js";
import type { Course, CourseRole, PlatformUser, ResourceLink } from "./seed.js";
import { fullName } from "./seed.js";

const STYLE = `
body{font-family:system-ui,sans-serif;margin:0;color:#1d2125;background:#f5f6f7}
header{background:#0f47ad;color:#fff;padding:.75rem 1.5rem}
header a{color:#fff;text-decoration:none;font-weight:600}
main{padding:1rem 1.5rem;max-width:72rem}
section{background:#fff;border:1px solid #dee2e6;border-radius:.4rem;padding:1rem;margin:0 0 1rem}
table{border-collapse:collapse}td,th{padding:.3rem .6rem;text-align:left;vertical-align:top}
code{background:#eef;padding:0 .2rem}
.button{display:inline-block;padding:.3rem .7rem;border-radius:.3rem;background:#0f6cbf;color:#fff;text-decoration:none}
.button.secondary{background:#ced4da;color:#1d2125}
iframe{border:1px solid #dee2e6;background:#fff}
.error{border-color:#ca3120}`;

/** The LMS site: its name and home page URL. */
export interface Site {
  readonly name: string;
  readonly home: string;
}

function Layout(props: { title: string; site: Site; children: Child }) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${props.title} | ${props.site.name}`}</title>
          <style>{raw(STYLE)}</style>
        </head>
        <body>
          <header>
            <a href={props.site.home}>{props.site.name}</a>{" "}
            <small>development LTI 1.3 platform (Moodle 4.x stand-in)</small>
          </header>
          <main>{props.children}</main>
        </body>
      </html>
    </>
  );
}

export interface FormField {
  readonly name: string;
  readonly value: string;
}

/** A page that POSTs hidden fields to `action` as soon as it loads. */
export function AutoSubmitFormPage(props: {
  formName: string;
  action: string;
  fields: readonly FormField[];
}) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <title>Launching…</title>
        </head>
        <body>
          <form
            action={props.action}
            name={props.formName}
            id={props.formName}
            method="post"
            enctype="application/x-www-form-urlencoded"
          >
            {props.fields.map((f) => (
              <input type="hidden" name={f.name} value={f.value} />
            ))}
            <noscript>
              <button type="submit">Continue</button>
            </noscript>
          </form>
          <script>{raw(`document.${props.formName}.submit();`)}</script>
        </body>
      </html>
    </>
  );
}

export function ErrorPage(props: { site: Site; title: string; message: string }) {
  return (
    <Layout title={props.title} site={props.site}>
      <section class="error">
        <h1>{props.title}</h1>
        <p>{props.message}</p>
        <p>
          <a href={props.site.home}>Back to the site home</a>
        </p>
      </section>
    </Layout>
  );
}

export interface Participant {
  readonly user: PlatformUser;
  readonly role: CourseRole | "admin";
}

function LaunchButtons(props: { urls: LaunchUrls; course: Course; link: ResourceLink; user: PlatformUser }) {
  const { urls, course, link, user } = props;
  return (
    <>
      <a class="button" href={urls.coursePage(course.id, user.id, link.id)}>
        Launch as {user.persona}
      </a>{" "}
      <a
        class="button secondary"
        href={urls.launch(course.id, user.id, link.id, "window")}
        target="_blank"
        rel="noopener"
      >
        open in new window
      </a>
    </>
  );
}

export interface LaunchUrls {
  coursePage(courseId: string, userId?: string, linkId?: string): string;
  launch(courseId: string, userId: string, linkId: string, target: DocumentTarget): string;
}

export interface HomeCourse {
  readonly course: Course;
  readonly links: readonly ResourceLink[];
  readonly participants: readonly Participant[];
}

export function HomePage(props: {
  site: Site;
  courses: readonly HomeCourse[];
  registration: Readonly<Record<string, string | readonly string[]>>;
  tool: Readonly<Record<string, string | readonly string[] | undefined>>;
  urls: LaunchUrls;
}) {
  return (
    <Layout title="Home" site={props.site}>
      <h1>{props.site.name}</h1>
      <p>
        A local LMS stand-in that launches the tool over LTI 1.3 exactly as Moodle 4.x does: login initiation
        POST, OIDC auth request, signed id_token form-post. Pick a course and a person.
      </p>
      {props.courses.map(({ course, links, participants }) => (
        <section>
          <h2>
            <a href={props.urls.coursePage(course.id)}>{course.fullName}</a>{" "}
            <small>({course.shortName})</small>
          </h2>
          {links.map((link) => (
            <table>
              <caption style="text-align:left">
                <strong>{link.title}</strong> (external tool, resource link {link.id})
              </caption>
              {participants.map(({ user, role }) => (
                <tr>
                  <td>
                    <LaunchButtons urls={props.urls} course={course} link={link} user={user} />
                  </td>
                  <td>
                    {fullName(user)}{" "}
                    <small>
                      ({roleLabel(role)}, {user.locale})
                    </small>
                  </td>
                </tr>
              ))}
            </table>
          ))}
        </section>
      ))}
      <section>
        <h2>Registering this platform in the tool</h2>
        <DefinitionTable rows={props.registration} />
        <h3>The tool, as registered here</h3>
        <DefinitionTable rows={props.tool} />
      </section>
    </Layout>
  );
}

function DefinitionTable(props: { rows: Readonly<Record<string, string | readonly string[] | undefined>> }) {
  return (
    <table>
      {Object.entries(props.rows).map(([key, value]) => (
        <tr>
          <th>{key}</th>
          <td>
            <code>{Array.isArray(value) ? value.join(", ") : (value ?? "—")}</code>
          </td>
        </tr>
      ))}
    </table>
  );
}

function roleLabel(role: CourseRole | "admin"): string {
  return role === "editingteacher" ? "teacher" : role === "student" ? "student" : "site administrator";
}

export function CoursePage(props: {
  site: Site;
  course: Course;
  links: readonly ResourceLink[];
  participants: readonly Participant[];
  urls: LaunchUrls;
}) {
  return (
    <Layout title={props.course.shortName} site={props.site}>
      <h1>{props.course.fullName}</h1>
      {props.links.map((link) => (
        <section>
          <h2>{link.title}</h2>
          {props.participants.map(({ user }) => (
            <p>
              <LaunchButtons urls={props.urls} course={props.course} link={link} user={user} />{" "}
              {fullName(user)}
            </p>
          ))}
        </section>
      ))}
    </Layout>
  );
}

/**
 * The activity inside the course page, as Moodle embeds it (mod/lti/view.php): an iframe
 * whose document is the platform's launch page, so the tool runs in a frame whose top-level
 * site is the LMS. That is where third-party cookie rules bite.
 */
export function CourseLaunchPage(props: {
  site: Site;
  course: Course;
  link: ResourceLink;
  user: PlatformUser;
  urls: LaunchUrls;
}) {
  const { course, link, user, urls } = props;
  return (
    <Layout title={`${course.shortName}: ${link.title}`} site={props.site}>
      <p>
        <a href={urls.coursePage(course.id)}>{course.fullName}</a> › {link.title} · viewing as{" "}
        <strong>{fullName(user)}</strong> ({user.persona}) ·{" "}
        <a href={urls.launch(course.id, user.id, link.id, "window")} target="_blank" rel="noopener">
          open in new window
        </a>
      </p>
      <iframe
        id="contentframe"
        title={link.title}
        src={urls.launch(course.id, user.id, link.id, "iframe")}
        width="100%"
        height="600"
        allow="microphone *; camera *; geolocation *; midi *; encrypted-media *; autoplay *; clipboard-write *"
        allowfullscreen
      />
    </Layout>
  );
}

/** Where `launch_presentation.return_url` leads; shows `lti_msg` / `lti_errormsg` (LTI Core §4.4.1). */
export function ReturnPage(props: {
  site: Site;
  course: Course | undefined;
  message: string | undefined;
  errorMessage: string | undefined;
  urls: LaunchUrls;
}) {
  return (
    <Layout title="Returned from the tool" site={props.site}>
      <section class={props.errorMessage ? "error" : undefined}>
        <h1>Returned from the tool</h1>
        {props.message ? <p>{props.message}</p> : null}
        {props.errorMessage ? <p>{props.errorMessage}</p> : null}
        {props.course ? (
          <p>
            <a href={props.urls.coursePage(props.course.id)}>Back to {props.course.fullName}</a>
          </p>
        ) : (
          <p>
            <a href={props.site.home}>Back to the site home</a>
          </p>
        )}
      </section>
    </Layout>
  );
}
