import { raw } from "hono/html";
import type { Activity } from "../../../domain/activities.js";
import { localised } from "../../../domain/standards/framework.js";
import { inlineScript, scriptJson } from "./inline.js";
import { Layout } from "./layout.js";
import { Localised } from "./localised.js";

const AUTOPOST_SCRIPT = inlineScript('document.getElementById("autopost").submit();');

/** What a page's fixed script reads: a JSON data block, which never runs (see inline.ts). */
function ScriptConfig(props: { value: unknown }) {
  return (
    <script type="application/json" id="config">
      {raw(scriptJson(props.value))}
    </script>
  );
}
const READ_CONFIG = 'var c=JSON.parse(document.getElementById("config").textContent);';

const PUT_DATA_SCRIPT =
  inlineScript(`(function(){${READ_CONFIG}var done=false;var id="put-"+Math.random().toString(36).slice(2);
function go(u){if(done)return;done=true;window.location.replace(u);}
var t=c.storageTarget==="_parent"?window.parent:(window.parent.frames[c.storageTarget]||window.parent);
window.addEventListener("message",function(e){if(e.origin!==c.platformOrigin)return;var d=e.data||{};
if(d.subject==="lti.put_data.response"&&d.message_id===id){go(d.error?c.fallbackUrl:c.authUrl);}});
try{t.postMessage({subject:"lti.put_data",message_id:id,key:c.storageKey,value:c.value},c.platformOrigin);}catch(e){go(c.fallbackUrl);}
setTimeout(function(){go(c.fallbackUrl);},3000);})();`);

const GET_DATA_SCRIPT =
  inlineScript(`(function(){${READ_CONFIG}var f=document.getElementById("continue");var done=false;
var id="get-"+Math.random().toString(36).slice(2);
function fail(){if(done)return;done=true;document.getElementById("status").textContent="Your LMS did not confirm this launch. Please launch the tool again from your course.";}
var t=c.storageTarget==="_parent"?window.parent:(window.parent.frames[c.storageTarget]||window.parent);
window.addEventListener("message",function(e){if(e.origin!==c.platformOrigin)return;var d=e.data||{};
if(d.subject==="lti.get_data.response"&&d.message_id===id&&!done){if(d.error||typeof d.value!=="string"){fail();return;}
done=true;f.elements.lti_storage_secret.value=d.value;f.submit();}});
try{t.postMessage({subject:"lti.get_data",message_id:id,key:c.key},c.platformOrigin);}catch(e){fail();}
setTimeout(fail,3000);})();`);

const FINISH_SCRIPT =
  inlineScript(`(function(){function close(){var w=window.opener||window.parent;if(w&&w!==window){w.postMessage({subject:"org.imsglobal.lti.close"},"*");}}
document.getElementById("finish").addEventListener("click",close);})();`);

/** An auto-submitting form (deep-linking return, Platform Storage continue), with a button if scripts are off. */
export function AutoPostPage(props: {
  title: string;
  action: string;
  fields: Record<string, string>;
  message: string;
}) {
  return (
    <Layout title={props.title}>
      <form id="autopost" method="post" action={props.action}>
        {Object.entries(props.fields).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <p>{props.message}</p>
        <noscript>
          <button class="button" type="submit">
            Continue
          </button>
        </noscript>
      </form>
      <script>{raw(AUTOPOST_SCRIPT)}</script>
    </Layout>
  );
}

/**
 * Platform Storage, login side (LTI client-side postMessage + Platform Storage drafts): put the
 * browser secret into the platform's storage, then continue to the platform's auth endpoint.
 * If the platform does not answer in time, fall back to the cookie check.
 */
export function PutDataPage(props: {
  storageTarget: string;
  platformOrigin: string;
  /** Not `key`: JSX reserves that prop name and drops it. */
  storageKey: string;
  value: string;
  authUrl: string;
  fallbackUrl: string;
}) {
  return (
    <Layout title="Opening the tool…">
      <p role="status">Opening the tool…</p>
      {/* Without scripts, the cookie check: it needs none. */}
      <noscript>
        <p>
          <a class="button" href={props.fallbackUrl}>
            Continue
          </a>
        </p>
      </noscript>
      <ScriptConfig value={props} />
      <script>{raw(PUT_DATA_SCRIPT)}</script>
    </Layout>
  );
}

/** Platform Storage, launch side: read the secret back and post it with the id_token. */
export function GetDataPage(props: {
  storageTarget: string;
  platformOrigin: string;
  storageKey: string;
  action: string;
  idToken: string;
  state: string;
}) {
  const config = {
    storageTarget: props.storageTarget,
    platformOrigin: props.platformOrigin,
    key: props.storageKey,
  };
  return (
    <Layout title="Opening the tool…">
      <form id="continue" method="post" action={props.action}>
        <input type="hidden" name="id_token" value={props.idToken} />
        <input type="hidden" name="state" value={props.state} />
        <input type="hidden" name="lti_storage_secret" value="" />
      </form>
      {/* A live region: a screen reader hears the failure the script writes here (WCAG 4.1.3). */}
      <p id="status" role="status">
        Opening the tool…
      </p>
      <noscript>
        <p>
          Your browser runs no scripts here, and the tool needs one to confirm this launch inside your course
          page. Turn scripts on for this site, then open the activity again from your course.
        </p>
      </noscript>
      <ScriptConfig value={config} />
      <script>{raw(GET_DATA_SCRIPT)}</script>
    </Layout>
  );
}

export function ActivityPickerPage(props: {
  activities: readonly Activity[];
  sealed: string;
  action: string;
  multiple: boolean;
  locale?: string;
  /** Why the last choice was not taken (nothing chosen): shown above the list, tied to it. */
  error?: string;
}) {
  const type = props.multiple ? "checkbox" : "radio";
  return (
    <Layout title={props.error ? "Error: Add an HLTA activity" : "Add an HLTA activity"}>
      <h1>Add an HLTA activity to your course</h1>
      <p class="lede">
        Choose what to place in the course. Graded activities add a column to the LMS gradebook: only
        completion and scores go there, never candidates' writing or evidence.
      </p>
      {props.error ? (
        <p class="panel error" id="activity-error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action={props.action}>
        <input type="hidden" name="dl" value={props.sealed} />
        <fieldset {...(props.error ? { "aria-describedby": "activity-error" } : {})}>
          <legend>Activities</legend>
          {props.activities.map((a, i) => (
            <p>
              <input
                type={type}
                id={`a-${a.id}`}
                name="activity"
                value={a.id}
                {...(i === 0 && !props.multiple ? { required: true } : {})}
              />{" "}
              <label for={`a-${a.id}`}>
                <strong>
                  <Localised text={a.title} locale={props.locale} />
                </strong>
                {a.grading ? " (graded)" : ""}: <Localised text={a.description} locale={props.locale} />
              </label>
            </p>
          ))}
        </fieldset>
        <p>
          <button class="button" type="submit">
            Add to course
          </button>
        </p>
      </form>
    </Layout>
  );
}

export function ActivityPage(props: { activity: Activity; locale?: string }) {
  return (
    <Layout title={localised(props.activity.title, props.locale)}>
      <h1>
        <Localised text={props.activity.title} locale={props.locale} />
      </h1>
      <p class="lede">
        <Localised text={props.activity.description} locale={props.locale} />
      </p>
      <p class="panel">This activity's content is being prepared and will appear here.</p>
    </Layout>
  );
}

/**
 * What an LMS administrator sees on opening the tool in a course where they teach nothing: the
 * cohort, with people's progress and later their work, is the tutors'; the administrator who
 * installs the tool sees no one's (UK GDPR: data minimisation).
 */
export function AdministratorPage(props: { courseTitle?: string }) {
  return (
    <Layout title="HLTA preparation">
      <h1>HLTA preparation is set up{props.courseTitle ? <> in {props.courseTitle}</> : null}</h1>
      <p class="lede">
        You opened it as an LMS administrator. Candidates see their preparation here, and the course's tutors
        their cohort; the tool shows administrators no one's progress or work.
      </p>
      <p class="panel">
        To see the cohort, open the tool as a teacher of the course (with the course's Teacher or Content
        Developer role in your LMS).
      </p>
    </Layout>
  );
}

export function RegistrationConfirmPage(props: {
  action: string;
  fields: Record<string, string>;
  platformHost: string;
}) {
  return (
    <Layout title="Register HLTA preparation">
      <h1>Register HLTA preparation with your LMS</h1>
      <p>
        Your LMS at <strong>{props.platformHost}</strong> asked to register this tool. Registering lets
        teachers add HLTA activities to courses; the tool will read names, roles and course memberships, and
        send completion and scores to the gradebook.
      </p>
      <form method="post" action={props.action}>
        {Object.entries(props.fields).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <button class="button" type="submit">
          Register the tool
        </button>
      </form>
    </Layout>
  );
}

/**
 * The LMS registered the tool but the tool could not save its side: nothing is lost, the LMS's
 * answer is in this page (sealed) for "Save again".
 */
export function RegistrationSaveAgainPage(props: {
  action: string;
  saved: string;
  issuer: string;
  clientId: string;
  reference: string;
}) {
  return (
    <Layout title="Registration not saved yet">
      <h1>Your LMS registered the tool, but the tool could not save it yet</h1>
      <p>
        Your LMS at <strong>{props.issuer}</strong> gave the tool client id <code>{props.clientId}</code>, and
        the tool's storage did not answer when it saved that. Nothing is lost: this page keeps the LMS's
        answer for a day. Wait a minute, then save again. Do not register the tool again from your LMS.
      </p>
      <form method="post" action={props.action}>
        <input type="hidden" name="saved" value={props.saved} />
        <button class="button" type="submit">
          Save again
        </button>
      </form>
      <p class="ref">
        Reference: <code>{props.reference}</code>. Quote it if you contact the tool's provider.
      </p>
    </Layout>
  );
}

/** After dynamic registration: tell the admin what happens next, then close with org.imsglobal.lti.close. */
export function RegistrationDonePage(props: {
  issuer: string;
  clientId: string;
  deploymentId?: string;
  pending: boolean;
  /** Said when the LMS's keys could not be fetched at registration. */
  keysProblem?: string;
}) {
  return (
    <Layout title="HLTA preparation registered">
      <h1>HLTA preparation is registered</h1>
      <p>
        Registered with <strong>{props.issuer}</strong> (client id <code>{props.clientId}</code>
        {props.deploymentId ? (
          <>
            , deployment <code>{props.deploymentId}</code>
          </>
        ) : null}
        ).
      </p>
      {props.pending ? (
        <p class="panel" id="pending">
          Moodle holds a newly registered tool as <strong>Pending</strong>. Activate it in{" "}
          <em>Site administration → Plugins → Activity modules → External tool → Manage tools</em> before
          teachers can use it.
        </p>
      ) : null}
      {props.keysProblem ? (
        <p class="panel" id="keys-problem" role="alert">
          {props.keysProblem}
        </p>
      ) : null}
      <p>
        <button class="button" type="button" id="finish">
          Finish
        </button>
      </p>
      <script>{raw(FINISH_SCRIPT)}</script>
    </Layout>
  );
}
