import { type DynamoDBDocumentClient, type QueryCommandInput, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { issuesFromZod } from "../../domain/errors.js";
import type { Logger } from "../../functions/web/log.js";
import { conditionHeld } from "./conditional.js";
import { queryPages } from "./query.js";
import { TABLE_KEYS } from "./table.js";

/**
 * A stored row a reader could not read (its schema refused it): written by another version of
 * the tool, or edited by hand. Only its keys and what was wrong are reported, never its values.
 */
export interface UnreadableRow {
  pk: string;
  sk: string;
  /** What the reader was reading: "grade jobs due", "xAPI statements due", … */
  reading: string;
  issues: { path: string; message: string }[];
  /** Set when the row was at the head of a work queue: it was put back behind the rest, until then. */
  deferredUntil?: string;
}

export type OnUnreadable = (row: UnreadableRow) => void;

/** Every unreadable row is an error for the operator: the log line names it and what was wrong. */
export function logUnreadable(log: Pick<Logger, "error">): OnUnreadable {
  return (row) => log.error("store.unreadable_row", { ...row });
}

/**
 * How long an unreadable row at the head of a work queue waits before it is read again. Not
 * dropped: a newer version of the tool (deploying at that moment) may read it, and whoever mends
 * it by hand finds it still queued. Meanwhile the rows behind it are worked on.
 */
export const UNREADABLE_DEFER_MS = 60 * 60 * 1000;

interface Safe<T> {
  safeParse(
    input: unknown,
  ): { success: true; data: T } | { success: false; error: Parameters<typeof issuesFromZod>[0] };
}

/** The rows the schema reads, and the others with what was wrong with each. */
export function readRows<T>(
  items: readonly Record<string, unknown>[],
  schema: Safe<T>,
): { rows: T[]; unreadable: { item: Record<string, unknown>; issues: UnreadableRow["issues"] }[] } {
  const rows: T[] = [];
  const unreadable: { item: Record<string, unknown>; issues: UnreadableRow["issues"] }[] = [];
  for (const item of items) {
    const parsed = schema.safeParse(item);
    if (parsed.success) rows.push(parsed.data);
    else unreadable.push({ item, issues: issuesFromZod(parsed.error).slice(0, 5) });
  }
  return { rows, unreadable };
}

const text = (value: unknown) => (typeof value === "string" ? value : "");

/** The report of an unreadable row: its keys and issues only. */
export function unreadableRow(
  item: Record<string, unknown>,
  issues: UnreadableRow["issues"],
  reading: string,
  deferredUntil?: Date,
): UnreadableRow {
  return {
    pk: text(item[TABLE_KEYS.pk]),
    sk: text(item[TABLE_KEYS.sk]),
    reading,
    issues,
    ...(deferredUntil ? { deferredUntil: deferredUntil.toISOString() } : {}),
  };
}

/**
 * Puts an unreadable row at the head of a gsi1 work queue (sorted by `<ISO time>#<id>`) back
 * behind the rest, due at `until`: its sort key's time is replaced, its id kept. Conditional on
 * the row being where it was read, so a writer that replaced it in between wins. True when moved.
 */
export async function deferUnreadable(
  doc: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
  until: Date,
): Promise<boolean> {
  const pk = item[TABLE_KEYS.pk];
  const sk = item[TABLE_KEYS.sk];
  const queue = item[TABLE_KEYS.gsi1pk];
  const sortKey = item[TABLE_KEYS.gsi1sk];
  if (
    typeof pk !== "string" ||
    typeof sk !== "string" ||
    typeof queue !== "string" ||
    typeof sortKey !== "string"
  ) {
    return false;
  }
  const hash = sortKey.indexOf("#");
  const id = hash >= 0 ? sortKey.slice(hash + 1) : `${pk}#${sk}`;
  return conditionHeld(
    doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { [TABLE_KEYS.pk]: pk, [TABLE_KEYS.sk]: sk },
        UpdateExpression: "SET #s = :later",
        ConditionExpression: "#g = :queue AND #s = :was",
        ExpressionAttributeNames: { "#g": TABLE_KEYS.gsi1pk, "#s": TABLE_KEYS.gsi1sk },
        ExpressionAttributeValues: {
          ":later": `${until.toISOString()}#${id}`,
          ":queue": queue,
          ":was": sortKey,
        },
      }),
    ),
  );
}

/**
 * Up to `limit` readable rows of a query, for a list (an admin page): unreadable rows are left
 * out and reported, and further pages are read (at most `maxPages`) so that they do not take the
 * places of readable rows behind them. A page full of them no longer lists nothing.
 */
export async function queryReadable<T>(
  doc: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, "ExclusiveStartKey" | "Limit">,
  schema: Safe<T>,
  options: { limit: number; reading: string; onUnreadable?: OnUnreadable | undefined; maxPages?: number },
): Promise<T[]> {
  const found: T[] = [];
  if (options.limit <= 0) return found;
  const pages = queryPages(doc, input, {
    maxPages: options.maxPages ?? 10,
    limit: () => options.limit - found.length,
  });
  for await (const page of pages) {
    const { rows, unreadable } = readRows(page, schema);
    found.push(...rows);
    for (const { item, issues } of unreadable) {
      options.onUnreadable?.(unreadableRow(item, issues, options.reading));
    }
    if (found.length >= options.limit) break;
  }
  return found;
}

/**
 * The readable rows of a page read from the head of a work queue; each unreadable one is put
 * back behind the rest (`deferUnreadable`) and reported, so one bad row cannot stop the queue.
 */
export async function readQueuePage<T>(
  doc: DynamoDBDocumentClient,
  tableName: string,
  items: readonly Record<string, unknown>[],
  schema: Safe<T>,
  options: { now: Date; reading: string; onUnreadable?: OnUnreadable | undefined },
): Promise<T[]> {
  const { rows, unreadable } = readRows(items, schema);
  const until = new Date(options.now.getTime() + UNREADABLE_DEFER_MS);
  for (const { item, issues } of unreadable) {
    const deferred = await deferUnreadable(doc, tableName, item, until);
    options.onUnreadable?.(unreadableRow(item, issues, options.reading, deferred ? until : undefined));
  }
  return rows;
}
