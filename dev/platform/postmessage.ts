/**
 * The scripts the platform's pages run in a real browser:
 *
 * - Platform Storage (LTI Client Side postMessages and Platform Storage drafts, as Canvas
 *   does them): answers `lti.capabilities`, `lti.put_data` and `lti.get_data` from the tool's
 *   frame. Data is kept per tool origin, in memory, for as long as the page lives; replies go to
 *   `event.source` with targetOrigin = the tool's origin; failures answer
 *   `{subject: "….response", message_id, error: {code, message}}`. The older
 *   `org.imsglobal.lti.*` subjects are answered too.
 * - The Dynamic Registration dialog: closes, and reloads the tool list, when the tool's
 *   registration page posts `org.imsglobal.lti.close` (or `lti.close`).
 */

/** JSON safe to embed in a <script>: no `</script>` can close it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replaceAll("<", "\\u003c");
}

export interface PlatformStorageScriptOptions {
  /** The named frame the tool must send storage messages to, or undefined for `_parent`. */
  readonly frame: string | undefined;
  /** Whether this document keeps the data (the named frame, or the parent when there is none). */
  readonly storesData: boolean;
  /** Tool origins allowed to talk to the platform. */
  readonly origins: readonly string[];
}

export function platformStorageScript(options: PlatformStorageScriptOptions): string {
  const config = scriptJson({
    frame: options.frame ?? null,
    storesData: options.storesData,
    origins: options.origins,
  });
  return `(function () {
  "use strict";
  var config = ${config};
  var stores = new Map(); // tool origin -> Map(key -> value)

  function supported() {
    var messages = [{ subject: "lti.capabilities" }];
    ["lti.put_data", "lti.get_data"].forEach(function (subject) {
      messages.push(config.frame ? { subject: subject, frame: config.frame } : { subject: subject });
    });
    return messages;
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object" || typeof data.subject !== "string") return;
    var subject = data.subject.replace(/^org\\.imsglobal\\./, "");
    if (subject.indexOf("lti.") !== 0 || /\\.response$/.test(subject)) return;
    if (!event.source || event.origin === "null") return;
    var response = { subject: data.subject + ".response", message_id: data.message_id };
    function reply() { event.source.postMessage(response, event.origin); }
    function fail(code, message) { response.error = { code: code, message: message }; reply(); }

    if (config.origins.indexOf(event.origin) < 0) return fail("wrong_origin", event.origin + " is not a registered tool");
    if (typeof data.message_id !== "string" || !data.message_id) return fail("bad_request", "message_id is required");
    if (subject === "lti.capabilities") { response.supported_messages = supported(); return reply(); }
    if (subject !== "lti.put_data" && subject !== "lti.get_data") return fail("unsupported_subject", data.subject + " is not supported");
    if (!config.storesData) return fail("unsupported_subject", "send " + data.subject + " to the frame " + config.frame);
    if (typeof data.key !== "string" || !data.key) return fail("bad_request", "key must be a non-empty string");

    var store = stores.get(event.origin) || new Map();
    stores.set(event.origin, store);
    response.key = data.key;
    if (subject === "lti.put_data") {
      if (data.value !== null && typeof data.value !== "string") return fail("bad_request", "value must be a string, or null to remove it");
      if (data.value === null) store.delete(data.key); else store.set(data.key, data.value);
      response.value = data.value;
    } else {
      response.value = store.has(data.key) ? store.get(data.key) : null;
    }
    reply();
  });
})();`;
}

export interface RegistrationDialogIds {
  readonly form: string;
  readonly dialog: string;
  readonly frame: string;
}

/** Opens the tool's registration page in a dialog; closes it on the tool's close message. */
export function registrationDialogScript(ids: RegistrationDialogIds): string {
  return `(function () {
  "use strict";
  var ids = ${scriptJson(ids)};
  var form = document.getElementById(ids.form);
  var dialog = document.getElementById(ids.dialog);
  var frame = document.getElementById(ids.frame);
  form.addEventListener("submit", function () { dialog.showModal(); });
  dialog.addEventListener("close", function () { frame.src = "about:blank"; location.reload(); });
  window.addEventListener("message", function (event) {
    var subject = event.data && typeof event.data === "object" ? event.data.subject : event.data;
    if (subject !== "org.imsglobal.lti.close" && subject !== "lti.close") return;
    if (event.source !== frame.contentWindow) return;
    dialog.close();
  });
})();`;
}
