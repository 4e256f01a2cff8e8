import { sha256b64url } from "../../lti-tool/crypto.js";
/**
 * The single DynamoDB table and its key design. One table, generic key attributes, every
 * entity's keys built here and nowhere else (docs/architecture.md, "Data model").
 *
 *   pk (S) / sk (S)        primary key
 *   gsi1pk / gsi1sk (S)    GSI1: listings across partitions (platforms, outbox backlog, cohorts)
 *   expiresAt (N)          TTL in epoch seconds. DynamoDB deletes late: readers must ignore
 *                          expired items themselves (isExpired below).
 */
export const TABLE_KEYS = {
  pk: "pk",
  sk: "sk",
  gsi1: "gsi1",
  gsi1pk: "gsi1pk",
  gsi1sk: "gsi1sk",
  ttl: "expiresAt",
} as const;

export const keys = {
  // Platform registrations (admin-managed, not course scoped).
  // Client and deployment ids are the LMS's: a `#` in one must not fake the separator (a client id
  // "A#DEPLOYMENT#1" would otherwise name client A's deployment 1). Ids without `#` or `%` keep
  // their plain form.
  platform: (issuer: string, clientId: string) => ({
    pk: `PLATFORM#${issuer}`,
    sk: `CLIENT#${separatorSafe(clientId)}`,
  }),
  platformsOfIssuer: (issuer: string) => ({ pk: `PLATFORM#${issuer}`, skPrefix: "CLIENT#" }),
  deployment: (issuer: string, clientId: string, deploymentId: string) => ({
    pk: `PLATFORM#${issuer}`,
    sk: `${keys.deploymentsOf(issuer, clientId).skPrefix}${separatorSafe(deploymentId)}`,
  }),
  deploymentsOf: (issuer: string, clientId: string) => ({
    pk: `PLATFORM#${issuer}`,
    skPrefix: `CLIENT#${separatorSafe(clientId)}#DEPLOYMENT#`,
  }),
  platformListing: { gsi1pk: "PLATFORMS" },
  // Which issuer a client id belongs to: taken in the registration's transaction.
  clientIdOwner: (clientId: string) => ({ pk: `CLIENTID#${separatorSafe(clientId)}`, sk: "OWNER" }),
  // Dynamic registration links, by the SHA-256 of their secret part; gsi1 `REGLINKS` lists them.
  registrationLink: (id: string) => ({ pk: `REGLINK#${id}`, sk: "LINK" }),
  registrationLinkListing: { gsi1pk: "REGLINKS" },
  // The admin form request that made a link: one link per form, however often it is sent.
  registrationLinkRequest: (requestId: string) => ({ pk: `REGLINKREQ#${requestId}`, sk: "REQUEST" }),

  // Platforms' public keys as last fetched, shared by the tool's instances (public data), by the
  // SHA-256 of the JWKS URL (a URL can be longer than a key holds).
  platformKeys: (jwksUrl: string) => ({ pk: `JWKS#${sha256b64url(jwksUrl)}`, sk: "KEYS" }),

  // The single use of a login (sealed state + its nonce), short TTL.
  usedNonce: (issuer: string, nonce: string) => ({ pk: `NONCE#${issuer}#${nonce}`, sk: "NONCE" }),

  // Tool signing keys and secrets (skeleton; KMS in the hardening issue).
  toolKey: (kid: string) => ({ pk: "TOOLKEY", sk: `KID#${kid}` }),
  toolKeys: { pk: "TOOLKEY", skPrefix: "KID#" },
  // The first key's claim: taken once, in the first key's own transaction.
  firstToolKey: { pk: "TOOLKEY", sk: "FIRST" },
  toolSecret: (name: string) => ({ pk: "TOOLSECRET", sk: name }),
  // When the administrator's sessions are valid from (sign-out, a replaced key): beside the
  // administrator key, out of reach of the functions denied the secrets. Secret names are lower case.
  adminSessions: { pk: "TOOLSECRET", sk: "ADMINSESSIONS" },

  // Course-scoped records: pk = courseScopeKey(course) from domain/tenancy.ts.
  enrolment: (scope: string, userId: string) => ({ pk: scope, sk: `ENROLMENT#${userId}` }),
  enrolments: (scope: string) => ({ pk: scope, skPrefix: "ENROLMENT#" }),
  // LTI Advantage endpoints of the course (AGS line items, NRPS memberships), from the last launch.
  courseServices: (scope: string) => ({ pk: scope, sk: "SERVICES" }),
  // A placed resource link: which activity it opens and its AGS line item.
  resourceLink: (scope: string, resourceLinkId: string) => ({ pk: scope, sk: `LINK#${resourceLinkId}` }),
  // The NRPS roster, cached with the time it was fetched.
  roster: (scope: string) => ({ pk: scope, sk: "ROSTER" }),
  // A score waiting to reach the LMS gradebook; the latest completion of an activity wins.
  gradeJob: (scope: string, activityId: string, userId: string) => ({
    pk: scope,
    sk: `GRADE#${activityId}#${userId}`,
  }),
  // gsi1: grade jobs by status; pending sorted by next attempt.
  gradeQueue: (status: "pending" | "parked") => ({ gsi1pk: `GRADES#${status}` }),

  // --- xAPI outbox and LRS routing (issue 4) ---------------------------------------------
  // One outbox item per (statement, LRS route). The pk MUST start with `OUTBOX#`: the
  // DynamoDB Streams filter of the forwarder Lambda selects items by that prefix.
  outboxItem: (statementId: string, routeId: string) => ({
    pk: `OUTBOX#${statementId}`,
    sk: `ROUTE#${routeId}`,
  }),
  // gsi1: a route's entries by status; pending sorted by next attempt, others by when.
  outboxByStatus: (routeId: string, status: "pending" | "delivered" | "parked") => ({
    gsi1pk: `OUTBOX#${routeId}#${status}`,
  }),
  // LRS routes (endpoint + sealed credentials), listed on gsi1 by scope.
  lrsRoute: (routeId: string) => ({ pk: `LRSROUTE#${routeId}`, sk: "ROUTE" }),
  lrsRouteListing: { gsi1pk: "LRSROUTES" },
  // Per-tenant xAPI settings (actor identifier type); sk PLATFORM or DEPLOYMENT#<id>.
  xapiSettings: (issuer: string, clientId: string) => ({
    pk: `XAPISETTINGS#${keyPart(issuer)}#${keyPart(clientId)}`,
  }),
} as const;

/**
 * `%` and `#` escaped as in a URL, nothing else: ids without them are unchanged. An id that
 * escaping takes past 400 bytes (the bound `KeyIdSchema` sets on the id itself) is replaced by
 * `%h:` and its SHA-256, so a client and a deployment id still fit a sort key (1,024 bytes). No
 * id comes out of escaping with `%h`: every `%` it leaves is followed by `25` or `23`.
 */
function separatorSafe(value: string): string {
  const escaped = value.replace(/%/g, "%25").replace(/#/g, "%23");
  return escaped === value || Buffer.byteLength(escaped, "utf8") <= 400
    ? escaped
    : `%h:${sha256b64url(value)}`;
}

/**
 * A value escaped for a key (so `#` inside it cannot fake a separator). Escaping can triple a
 * value's length, so one past `maxChars` characters escaped (600 by default) is replaced by `h:`
 * and its SHA-256 (45 characters): two default parts then always fit a partition key (2,048
 * bytes), three parts of 300 a sort key (1,024 bytes), and every real issuer keeps its readable
 * key as before. No escaped value contains `:` or `#`, so neither form can pass for the other.
 */
export function keyPart(value: string, maxChars = 600): string {
  const escaped = encodeURIComponent(value);
  return escaped.length <= maxChars ? escaped : `h:${sha256b64url(value)}`;
}

/**
 * A sort key that only orders a listing (never unique, never read back): the text, cut to
 * DynamoDB's 1,024 bytes for a sort key when longer.
 */
export function orderingKey(text: string, maxBytes = 1024): string {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  let cut = "";
  let bytes = 0;
  for (const char of text) {
    bytes += Buffer.byteLength(char, "utf8");
    if (bytes > maxBytes) break;
    cut += char;
  }
  return cut;
}

export function isExpired(
  item: { expiresAt?: unknown },
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  return typeof item.expiresAt === "number" && item.expiresAt <= nowSeconds;
}
