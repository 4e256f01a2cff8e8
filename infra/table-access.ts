/**
 * What each function may do in the table: the DynamoDB actions its code calls, and the
 * partitions kept out of its reach. No CDK here, so the integration test that checks the
 * code's real calls against these lists (test/integration/iam/) loads it cheaply; the stack
 * grants exactly these (constructs/hlta-function.ts, bindTable).
 */
import { keys } from "../adapters/dynamo/table.js";

/** A transaction is authorised item by item, as the PutItem or UpdateItem inside it. */
export type TableAction = "GetItem" | "Query" | "PutItem" | "UpdateItem" | "DeleteItem" | "BatchWriteItem";

/** The partitions of the tool's private signing key and of its secrets (session, admin key). */
export const TOOL_KEY_PARTITION = keys.toolKeys.pk;
export const TOOL_SECRET_PARTITION = keys.toolSecret("").pk;

export interface TableAccess {
  readonly actions: readonly TableAction[];
  /** Partitions (their entity, the key up to its first `#`) the function may not touch at all. */
  readonly deniedPartitions: readonly string[];
  /**
   * When set, the only partitions (entities) the function may write: it cannot create or change
   * what decides whom the tool trusts (registrations, client ids, platform keys, links).
   */
  readonly writablePartitions?: readonly string[];
}

/** The actions of TableAction that write. */
export const WRITE_ACTIONS: readonly TableAction[] = [
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "BatchWriteItem",
];

export const TABLE_ACCESS = {
  // LTI, pages, admin: the launch's transaction (PutItem, UpdateItem), a registration link
  // removed (DeleteItem).
  web: { actions: ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"], deniedPartitions: [] },
  // Routes and due outbox items read; entries marked delivered or rescheduled (BatchWriteItem)
  // or parked (UpdateItem). The tool's key and secrets are out of its reach.
  forwarder: {
    actions: ["GetItem", "Query", "UpdateItem", "BatchWriteItem"],
    deniedPartitions: [TOOL_KEY_PARTITION, TOOL_SECRET_PARTITION],
    writablePartitions: [keys.outboxItem("", "").pk.replace(/#$/, "")],
  },
  // Registrations, course services and the tool's signing key read (it signs the token
  // requests; PutItem makes the first key if none exists yet); grade jobs updated. The secrets
  // are out of its reach.
  grades: {
    actions: ["GetItem", "Query", "PutItem", "UpdateItem"],
    deniedPartitions: [TOOL_SECRET_PARTITION],
    // Grade jobs live in their course's partition (T#<tenant>#C#<course>).
    writablePartitions: ["T", TOOL_KEY_PARTITION],
  },
} as const satisfies Record<string, TableAccess>;
