/**
 * What each function may do in the table: the DynamoDB actions its code calls, and the
 * partitions each of them may reach. No CDK here, so the integration test that checks the
 * code's real calls against these lists (test/integration/iam/) loads it cheaply; the stack
 * grants exactly these (constructs/hlta-function.ts, bindTable).
 *
 * A partition is named by its entity: its key up to the first `#` (`OUTBOX` for
 * `OUTBOX#<statementId>`, `T` for a course's `T#<tenant>#C#<course>`), taken from the key
 * builders themselves, so a renamed key moves the fences with it. For a Query on gsi1 the
 * partition is the queried gsi1pk value (`LRSROUTES`, `GRADES#pending`).
 */
import { keys } from "../adapters/dynamo/table.js";

/** A transaction is authorised item by item, as the PutItem or UpdateItem inside it. */
export type TableAction = "GetItem" | "Query" | "PutItem" | "UpdateItem" | "DeleteItem" | "BatchWriteItem";

/** The entity of a partition key: the key up to its first `#` (the whole key without one). */
export const entityOf = (key: string): string => key.split("#", 1)[0] ?? key;

/** The partitions of the tool's private signing key and of its secrets (session, admin key). */
export const TOOL_KEY_PARTITION = keys.toolKeys.pk;
export const TOOL_SECRET_PARTITION = keys.toolSecret("").pk;
/**
 * Course-scoped records (enrolments, course services, links, roster, grade jobs): the entity of
 * `courseScopeKey` (domain/tenancy.ts), `T#<tenant>#C#<course>`. Written out because `infra/`
 * imports key names only (docs/architecture.md); test/infra checks it against courseScopeKey.
 */
export const COURSE_PARTITION = "T";

export interface TableAccess {
  readonly actions: readonly TableAction[];
  /** Partitions (their entity, the key up to its first `#`) the function may not touch at all. */
  readonly deniedPartitions: readonly string[];
  /**
   * When set, the only partitions (entities) the function may write: it cannot create or change
   * what decides whom the tool trusts (registrations, client ids, platform keys, links).
   */
  readonly writablePartitions?: readonly string[];
  /**
   * Narrower still, per write action: the partitions (a subset of `writablePartitions`) that
   * action may reach. A write action not named here reaches all of `writablePartitions`.
   */
  readonly writablePartitionsByAction?: { readonly [A in TableAction]?: readonly string[] };
  /**
   * When set, the only partitions (entities) its reads (READ_ACTIONS), on the table or on gsi1,
   * may reach: a function that never reads people's records cannot read them.
   */
  readonly readablePartitions?: readonly string[];
}

/** The actions of TableAction that write. */
export const WRITE_ACTIONS: readonly TableAction[] = [
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "BatchWriteItem",
];
/** The actions of TableAction that read (every action is one or the other). */
export const READ_ACTIONS: readonly TableAction[] = ["GetItem", "Query"];

/**
 * The partitions (entities) `action` may reach under `access`, or undefined when no fence
 * bounds it (beyond `deniedPartitions`, which bounds every action).
 */
export function partitionsFor(access: TableAccess, action: TableAction): readonly string[] | undefined {
  if (READ_ACTIONS.includes(action)) return access.readablePartitions;
  return access.writablePartitionsByAction?.[action] ?? access.writablePartitions;
}

/** An outbox item (`OUTBOX#<statementId>`) and a route's outbox queue on gsi1 (`OUTBOX#<route>#…`). */
const OUTBOX_PARTITION = entityOf(keys.outboxItem("", "").pk);

export const TABLE_ACCESS = {
  // LTI and pages: the launch's transaction (PutItem, UpdateItem). It serves every person's
  // pages, so its reads and writes are not fenced; it deletes nothing.
  web: { actions: ["GetItem", "Query", "PutItem", "UpdateItem"], deniedPartitions: [] },
  // Administration and registration: platforms registered, links made and removed (DeleteItem),
  // admin sessions ended, parked statements and grades replayed. Not fenced: it lists every tenant.
  admin: { actions: ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"], deniedPartitions: [] },
  // Routes and due outbox items read; entries marked delivered or rescheduled (BatchWriteItem)
  // or parked, or an unreadable one deferred (UpdateItem). The tool's key and secrets are out
  // of its reach, and so is everything it does not read: people, courses, registrations.
  forwarder: {
    actions: ["GetItem", "Query", "UpdateItem", "BatchWriteItem"],
    deniedPartitions: [TOOL_KEY_PARTITION, TOOL_SECRET_PARTITION],
    writablePartitions: [OUTBOX_PARTITION],
    readablePartitions: [
      // GetItem LRSROUTE#<id> (the route with its sealed credentials).
      entityOf(keys.lrsRoute("").pk),
      // Query gsi1 LRSROUTES (the sweep lists the routes).
      keys.lrsRouteListing.gsi1pk,
      // Query gsi1 OUTBOX#<route>#pending (a route's due entries).
      entityOf(keys.outboxByStatus("", "pending").gsi1pk),
    ],
  },
  // Registrations, course services and the tool's signing key read (it signs the token
  // requests; PutItem makes the first key if none exists yet); grade jobs updated. The secrets
  // are out of its reach, and so is what it does not read (outbox, routes, links, logins).
  grades: {
    actions: ["GetItem", "Query", "PutItem", "UpdateItem"],
    deniedPartitions: [TOOL_SECRET_PARTITION],
    // Grade jobs live in their course's partition (T#<tenant>#C#<course>).
    writablePartitions: [COURSE_PARTITION, TOOL_KEY_PARTITION],
    writablePartitionsByAction: {
      // addKey: the first signing key, when none exists yet (StoredKeySigner.ensureKey).
      PutItem: [TOOL_KEY_PARTITION],
      // Grade jobs delivered, rescheduled, parked, or deferred when unreadable.
      UpdateItem: [COURSE_PARTITION],
    },
    readablePartitions: [
      // Query gsi1 GRADES#pending (the due jobs).
      entityOf(keys.gradeQueue("pending").gsi1pk),
      // GetItem PLATFORM#<issuer> (the registration).
      entityOf(keys.platform("", "").pk),
      // GetItem T#…#C#… (course services SERVICES, resource links LINK#…).
      COURSE_PARTITION,
      // Query TOOLKEY (the signing keys).
      TOOL_KEY_PARTITION,
    ],
  },
} as const satisfies Record<string, TableAccess>;
