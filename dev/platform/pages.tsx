/**
 * The development platform's HTML: a plain stand-in for Moodle's pages. The two auto-submit
 * forms are shaped like Moodle's (`ltiInitiateLoginForm`, `ltiAuthForm`): hidden inputs and a
 * one-line script, so a browser, the launch driver or a person with scripts off (the button)
 * can all carry the launch on.
 */

import { raw } from "hono/html";
import type { Child } from "../../functions/web/jsx/jsx-runtime.js";
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

/** What the pages show of a registered tool. */
export interface ToolSummary {
  readonly clientId: string;
  readonly deploymentId: string;
  readonly name: string;
  readonly status: "active" | "pending";
  readonly registeredBy: string;
  readonly loginInitiationUrl: string;
  readonly scopes: readonly string[];
  readonly deepLinking: boolean;
}

/** Links the pages need beyond launches. */
export interface AdminUrls {
  /** Moodle's "Manage tools" form target: POST action=activate&id=<client_id>. */
  readonly toolConfigure: string;
  /** GET ?url=<tool registration URL>: starts Dynamic Registration. */
  readonly startRegistration: string;
  gradebook(courseId: string): string;
  /** The page that hosts a deep-linking launch ("Add an activity with the tool"). */
  addActivity(courseId: string, typeId: string, userId: string): string;
}

export interface HomeCourse {
  readonly course: Course;
  readonly links: readonly ResourceLink[];
  readonly participants: readonly Participant[];
}

const REGISTRATION_IDS = {
  form: "register-tool-form",
  dialog: "registration-dialog",
  frame: "registration-frame",
};

export function HomePage(props: {
  site: Site;
  courses: readonly HomeCourse[];
  registration: Readonly<Record<string, string | readonly string[]>>;
  tool: Readonly<Record<string, string | readonly string[] | undefined>>;
  tools: readonly ToolSummary[];
  toolNames: Readonly<Record<string, string>>;
  urls: LaunchUrls;
  admin: AdminUrls;
  registrationScript: string;
}) {
  return (
    <Layout title="Home" site={props.site}>
      <h1>{props.site.name}</h1>
      <p>
        A local LMS stand-in that launches the tool over LTI 1.3 exactly as Moodle 4.x does: login initiation
        POST, OIDC auth request, signed id_token form-post. Pick a course and a person. Tutors can add
        activities with the tool (deep linking) on the course page; grades the tool sends show in each
        course's gradebook.
      </p>
      {props.courses.map(({ course, links, participants }) => {
        const people = participants.filter((p) => !p.user.rosterOnly);
        const rosterOnly = participants.length - people.length;
        return (
          <section>
            <h2>
              <a href={props.urls.coursePage(course.id)}>{course.fullName}</a>{" "}
              <small>({course.shortName})</small>
            </h2>
            <p>
              <a href={props.urls.coursePage(course.id)}>Course page</a> ·{" "}
              <a href={props.admin.gradebook(course.id)}>Gradebook</a>
              {rosterOnly > 0
                ? ` · and ${rosterOnly} more candidates in the roster who have never launched`
                : ""}
            </p>
            {links.map((link) => (
              <table>
                <caption style="text-align:left">
                  <strong>{link.title}</strong> (external tool{" "}
                  {props.toolNames[link.tool ?? ""] ?? props.tools[0]?.name ?? ""}, resource link {link.id})
                </caption>
                {people.map(({ user, role }) => (
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
        );
      })}
      <ToolsSection tools={props.tools} admin={props.admin} />
      <section id="register">
        <h2>Register a tool by URL (LTI Advantage: Dynamic Registration)</h2>
        <p>
          Paste the tool's registration URL. The tool's page opens here; when it is done it closes itself and
          the tool appears above as <strong>pending</strong> until you activate it, as in Moodle.
        </p>
        <form
          id={REGISTRATION_IDS.form}
          action={props.admin.startRegistration}
          method="get"
          target="registration"
        >
          <input
            type="url"
            name="url"
            required
            size={60}
            placeholder="https://tool.example/lti/register/your-link"
          />{" "}
          <button type="submit" class="button">
            Add LTI Advantage
          </button>
        </form>
        <dialog id={REGISTRATION_IDS.dialog} style="width:80vw;height:80vh;padding:0">
          <form method="dialog" style="text-align:right;margin:.3rem">
            <button type="submit">Close</button>
          </form>
          <iframe
            id={REGISTRATION_IDS.frame}
            name="registration"
            title="Tool registration"
            style="width:100%;height:calc(100% - 3rem);border:0"
          />
        </dialog>
        <script>{raw(props.registrationScript)}</script>
      </section>
      <section>
        <h2>Registering this platform in the tool</h2>
        <DefinitionTable rows={props.registration} />
        <h3>The tool, as registered here</h3>
        <DefinitionTable rows={props.tool} />
      </section>
    </Layout>
  );
}

function ToolsSection(props: { tools: readonly ToolSummary[]; admin: AdminUrls }) {
  return (
    <section id="tools">
      <h2>Tools</h2>
      <table>
        <tr>
          <th>Tool</th>
          <th>Status</th>
          <th>client_id</th>
          <th>Type (deployment) id</th>
          <th>Services</th>
          <th>Registered by</th>
        </tr>
        {props.tools.map((tool) => (
          <tr>
            <td>
              {tool.name}
              <br />
              <small>
                <code>{tool.loginInitiationUrl}</code>
              </small>
            </td>
            <td>
              {tool.status === "active" ? (
                "active"
              ) : (
                <form method="post" action={props.admin.toolConfigure}>
                  pending <input type="hidden" name="action" value="activate" />
                  <input type="hidden" name="id" value={tool.clientId} />
                  <button type="submit" class="button">
                    Activate
                  </button>
                </form>
              )}
            </td>
            <td>
              <code>{tool.clientId}</code>
            </td>
            <td>
              <code>{tool.deploymentId}</code>
            </td>
            <td>
              <small>
                {[
                  ...tool.scopes.map((s) => s.replace(/^.*\/spec\/(lti-\w+)\/scope\//, "$1 ")),
                  ...(tool.deepLinking ? ["deep linking"] : []),
                ].join(", ") || "none"}
              </small>
            </td>
            <td>{tool.registeredBy}</td>
          </tr>
        ))}
      </table>
    </section>
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

/** A gradebook column: a line item, with the cells of the students who have a score. */
export interface GradebookColumn {
  readonly id: string;
  readonly label: string;
  readonly scoreMaximum: number;
  readonly toolName: string;
  readonly resourceLinkId: string | undefined;
  readonly cells: Readonly<Record<string, GradebookCell>>;
}

export interface GradebookCell {
  readonly grade: number | null;
  readonly activityProgress: string;
  readonly gradingProgress: string;
  readonly timestamp: string;
}

export function Gradebook(props: { columns: readonly GradebookColumn[]; students: readonly PlatformUser[] }) {
  if (props.columns.length === 0) {
    return (
      <p>
        No grade items yet: a tool creates them (AGS line items) or places them with a deep-linking response.
      </p>
    );
  }
  return (
    <table class="gradebook">
      <tr>
        <th>Student</th>
        {props.columns.map((col) => (
          <th>
            {col.label}
            <br />
            <small>
              /{col.scoreMaximum} · {col.toolName}
              {col.resourceLinkId ? ` · activity ${col.resourceLinkId}` : ""}
            </small>
          </th>
        ))}
      </tr>
      {props.students.map((student) => (
        <tr>
          <td>{fullName(student)}</td>
          {props.columns.map((col) => {
            const cell = col.cells[student.id];
            if (!cell) return <td>—</td>;
            return (
              <td title={`${cell.activityProgress}, ${cell.gradingProgress}, ${cell.timestamp}`}>
                {cell.grade === null ? "" : `${Math.round(cell.grade * 100) / 100} `}
                <small>
                  ({cell.activityProgress}, {cell.gradingProgress})
                </small>
              </td>
            );
          })}
        </tr>
      ))}
    </table>
  );
}

export interface DeepLinkingTool {
  readonly typeId: string;
  readonly name: string;
}

export function CoursePage(props: {
  site: Site;
  course: Course;
  links: readonly ResourceLink[];
  participants: readonly Participant[];
  toolNames: Readonly<Record<string, string>>;
  deepLinkingTools: readonly DeepLinkingTool[];
  gradebook: { columns: readonly GradebookColumn[]; students: readonly PlatformUser[] };
  urls: LaunchUrls;
  admin: AdminUrls;
}) {
  const people = props.participants.filter((p) => !p.user.rosterOnly);
  const teachers = people.filter((p) => p.role !== "student");
  return (
    <Layout title={props.course.shortName} site={props.site}>
      <h1>{props.course.fullName}</h1>
      {props.links.map((link) => (
        <section>
          <h2>{link.title}</h2>
          <p>
            <small>
              {props.toolNames[link.tool ?? ""] ?? ""} · resource link {link.id}
              {Object.keys(link.custom).length > 0 ? ` · custom ${JSON.stringify(link.custom)}` : ""}
            </small>
          </p>
          {people.map(({ user }) => (
            <p>
              <LaunchButtons urls={props.urls} course={props.course} link={link} user={user} />{" "}
              {fullName(user)}
            </p>
          ))}
        </section>
      ))}
      {props.deepLinkingTools.length > 0 && teachers.length > 0 ? (
        <section>
          <h2>Add an activity with a tool (deep linking)</h2>
          {props.deepLinkingTools.map((tool) =>
            teachers.map(({ user }) => (
              <p>
                <a class="button" href={props.admin.addActivity(props.course.id, tool.typeId, user.id)}>
                  Add an activity with {tool.name} as {user.persona}
                </a>
              </p>
            )),
          )}
        </section>
      ) : null}
      <section id="gradebook">
        <h2>
          Gradebook{" "}
          <small>
            (<a href={props.admin.gradebook(props.course.id)}>grader report</a>)
          </small>
        </h2>
        <Gradebook columns={props.gradebook.columns} students={props.gradebook.students} />
      </section>
      <section>
        <h2>Participants ({props.participants.length})</h2>
        <details>
          <summary>Everyone enrolled, as the memberships service lists them</summary>
          <ul>
            {props.participants.map(({ user, role }) => (
              <li>
                {fullName(user)} <small>({roleLabel(role)})</small>
              </li>
            ))}
          </ul>
        </details>
      </section>
    </Layout>
  );
}

export function GradebookPage(props: {
  site: Site;
  course: Course;
  gradebook: { columns: readonly GradebookColumn[]; students: readonly PlatformUser[] };
  urls: LaunchUrls;
}) {
  return (
    <Layout title={`${props.course.shortName}: grader report`} site={props.site}>
      <p>
        <a href={props.urls.coursePage(props.course.id)}>{props.course.fullName}</a> › Grader report
      </p>
      <Gradebook columns={props.gradebook.columns} students={props.gradebook.students} />
    </Layout>
  );
}

/** Platform Storage on a page hosting a tool frame: the script, and the named frame if any. */
export interface StorageHost {
  readonly script: string;
  readonly frame: { readonly name: string; readonly src: string } | undefined;
}

/**
 * The activity inside the course page, as Moodle embeds it (mod/lti/view.php): an iframe
 * whose document is the platform's launch page, so the tool runs in a frame whose top-level
 * site is the LMS. That is where third-party cookie rules bite. With Platform Storage on,
 * the page answers the tool's postMessages (itself, or through the named frame).
 */
export function CourseLaunchPage(props: {
  site: Site;
  course: Course;
  heading: string;
  user: PlatformUser;
  frameSrc: string;
  windowSrc: string;
  storage: StorageHost | undefined;
  urls: LaunchUrls;
}) {
  const { course, user, urls, storage } = props;
  return (
    <Layout title={`${course.shortName}: ${props.heading}`} site={props.site}>
      {storage ? <script>{raw(storage.script)}</script> : null}
      <p>
        <a href={urls.coursePage(course.id)}>{course.fullName}</a> › {props.heading} · viewing as{" "}
        <strong>{fullName(user)}</strong> ({user.persona}) ·{" "}
        <a href={props.windowSrc} target="_blank" rel="noopener">
          open in new window
        </a>
      </p>
      {storage?.frame ? (
        <iframe
          id={storage.frame.name}
          name={storage.frame.name}
          title="Platform storage"
          src={storage.frame.src}
          style="display:none"
        />
      ) : null}
      <iframe
        id="contentframe"
        title={props.heading}
        src={props.frameSrc}
        width="100%"
        height="600"
        allow="microphone *; camera *; geolocation *; midi *; encrypted-media *; autoplay *; clipboard-write *"
        allowfullscreen
      />
    </Layout>
  );
}

/** The named frame that keeps Platform Storage data (Canvas's `post_message_forwarding`). */
export function StorageFramePage(props: { script: string }) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <title>Platform storage</title>
        </head>
        <body>
          <script>{raw(props.script)}</script>
        </body>
      </html>
    </>
  );
}

/** After a deep-linking response: what was added, or why nothing was. */
export function DeepLinkingReturnPage(props: {
  site: Site;
  course: Course | undefined;
  added: readonly { link: ResourceLink; lineItem: { label: string; scoreMaximum: number } | undefined }[];
  error: string | undefined;
  message: string | undefined;
  urls: LaunchUrls;
}) {
  const back = props.course ? (
    <p>
      <a href={props.urls.coursePage(props.course.id)} target="_top">
        Back to {props.course.fullName}
      </a>
    </p>
  ) : (
    <p>
      <a href={props.site.home} target="_top">
        Back to the site home
      </a>
    </p>
  );
  if (props.error) {
    return (
      <Layout title="The tool's selection was refused" site={props.site}>
        <section class="error">
          <h1>The tool's selection was refused</h1>
          <p>{props.error}</p>
          {back}
        </section>
      </Layout>
    );
  }
  return (
    <Layout title="Activities added" site={props.site}>
      <section>
        <h1>
          {props.added.length === 0
            ? "Nothing was added"
            : `Added ${props.added.length} ${props.added.length === 1 ? "activity" : "activities"}`}
        </h1>
        {props.message ? <p>{props.message}</p> : null}
        <ul>
          {props.added.map(({ link, lineItem }) => (
            <li>
              <strong>{link.title}</strong> (resource link {link.id})
              {link.targetLinkUri ? (
                <>
                  {" "}
                  → <code>{link.targetLinkUri}</code>
                </>
              ) : null}
              {lineItem ? ` · graded out of ${lineItem.scoreMaximum} (${lineItem.label})` : ""}
            </li>
          ))}
        </ul>
        {back}
      </section>
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
