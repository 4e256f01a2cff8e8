/**
 * Statement comparison, for a 409 answer: does the LRS already hold *our* statement under this
 * id? xAPI 1.0.3 Data §2.3.1, "Statement Comparison Requirements": differences that the
 * exceptions to statement immutability could cause MUST be ignored, any other difference MUST
 * NOT. The exceptions, and how each is allowed for here:
 * - b1, properties the LRS assigns (`authority`, `stored`, `version`): ignored; `timestamp`,
 *   which we always send, is compared as an instant;
 * - b2, Activity Definitions (not part of the statement: an LRS may return its canonical one):
 *   the `definition` of every Activity is ignored, its `id` compared;
 * - b3, the Verb's `display` (not part of the statement): ignored;
 * - b4, the serialisation of `timestamp` (another time zone, other decimals): as an instant;
 * - b5, un-ordered lists (a Group's `member`): compared in any order;
 * - b6, `attachments`: ignored;
 * - b7, case-insensitive properties: UUIDs (the statement's `id`, `context.registration`, a
 *   StatementRef's `id`: RFC 4122 reads them in either case), the domain of an `mbox`, and
 *   `context.language` (a BCP 47 tag) are compared in lower case.
 * Everything else must be equal, whatever the order of an object's keys.
 */

const IGNORED = new Set(["authority", "stored", "version", "attachments"]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Json = unknown;
type JsonObject = Record<string, Json>;

function isObject(value: Json): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Sorted keys at every level, so that key order never makes a difference. */
function canonical(value: Json): Json {
  if (Array.isArray(value)) return value.map(canonical);
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const key of Object.keys(value).sort()) out[key] = canonical(value[key]);
    return out;
  }
  return value;
}

const uuid = (value: Json): Json =>
  typeof value === "string" && UUID.test(value) ? value.toLowerCase() : value;

/** `mailto:local@Domain` with the domain in lower case (the local part is case-sensitive). */
function mbox(value: Json): Json {
  if (typeof value !== "string") return value;
  const at = value.lastIndexOf("@");
  return at < 0 ? value : value.slice(0, at + 1) + value.slice(at + 1).toLowerCase();
}

/** An Agent or Group: its mbox's domain in lower case, a Group's members in any order. */
function actor(value: Json): Json {
  if (!isObject(value)) return value;
  const out: JsonObject = { ...value };
  if ("mbox" in out) out.mbox = mbox(out.mbox);
  if (Array.isArray(out.member)) {
    out.member = out.member
      .map((m) => JSON.stringify(canonical(actor(m))))
      .sort()
      .map((m) => JSON.parse(m) as Json);
  }
  return out;
}

/** An Activity without its definition (b2). */
function activity(value: Json): Json {
  if (!isObject(value)) return value;
  const { definition: _definition, ...rest } = value;
  return rest;
}

/** A statement's object: an Activity, an Agent or Group, a StatementRef or a SubStatement. */
function statementObject(value: Json): Json {
  if (!isObject(value)) return value;
  switch (value.objectType) {
    case undefined:
    case "Activity":
      return activity(value);
    case "Agent":
    case "Group":
      return actor(value);
    case "StatementRef":
      return { ...value, id: uuid(value.id) };
    case "SubStatement":
      return statementBody(value);
    default:
      return value;
  }
}

function context(value: Json): Json {
  if (!isObject(value)) return value;
  const out: JsonObject = { ...value };
  if ("registration" in out) out.registration = uuid(out.registration);
  if (typeof out.language === "string") out.language = out.language.toLowerCase();
  if ("instructor" in out) out.instructor = actor(out.instructor);
  if ("team" in out) out.team = actor(out.team);
  if (isObject(out.statement)) out.statement = { ...out.statement, id: uuid(out.statement.id) };
  if (isObject(out.contextActivities)) {
    const lists: JsonObject = {};
    for (const [kind, list] of Object.entries(out.contextActivities)) {
      // A single Activity is allowed for a list of one (Data §2.4.6.2); compared as the list.
      lists[kind] = (Array.isArray(list) ? list : [list]).map(activity);
    }
    out.contextActivities = lists;
  }
  return out;
}

/**
 * A timestamp as the instant it names, in UTC. The LRS may answer in another zone (Data §2.4.7);
 * one that drops the zone altogether is read as UTC, the zone it SHOULD answer in, and not in the
 * zone of whatever process compares (Date.parse reads a date-time without one as local time).
 */
function instant(value: string): string {
  const zoned = /^\d{4}-\d{2}-\d{2}T[\d:.]+$/i.test(value) ? `${value}Z` : value;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

/** A Verb without its `display` (b3). */
function withoutDisplay(verb: JsonObject): JsonObject {
  const { display: _display, ...rest } = verb;
  return rest;
}

/** The parts a statement and a SubStatement share. */
function statementBody(statement: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(statement)) {
    if (IGNORED.has(key)) continue;
    if (key === "timestamp" && typeof value === "string") out[key] = instant(value);
    else if (key === "id") out[key] = uuid(value);
    else if (key === "actor") out[key] = actor(value);
    else if (key === "verb") out[key] = isObject(value) ? withoutDisplay(value) : value;
    else if (key === "object") out[key] = statementObject(value);
    else if (key === "context") out[key] = context(value);
    else out[key] = value;
  }
  return out;
}

function comparable(statement: Json): string | undefined {
  if (!isObject(statement)) return undefined;
  return JSON.stringify(canonical(statementBody(statement)));
}

/** True when `stored` (what the LRS returned) is the statement whose JSON we sent. */
export function sameStatement(sentJson: string, stored: unknown): boolean {
  let sent: unknown;
  try {
    sent = JSON.parse(sentJson);
  } catch {
    return false;
  }
  const a = comparable(sent);
  return a !== undefined && a === comparable(stored);
}
