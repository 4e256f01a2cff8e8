import { setTimeout as sleep } from "node:timers/promises";
import { OutboxEntrySchema } from "../../adapters/dynamo/outbox.js";
import { type OnUnreadable, readRows, unreadableRow } from "../../adapters/dynamo/unreadable.js";
import { drainRoute, type ForwarderDeps, forwardEntries, roundFailed } from "../../statements/forwarder.js";
import type { OutboxEntry } from "../../statements/ports.js";

/**
 * The forwarder in AWS. Two entry points over the same logic as the local loop:
 *
 * - `createStreamHandler`: DynamoDB Streams (NEW_IMAGE, filtered on pk prefix `OUTBOX#`)
 *   → Lambda. A new pending outbox item is delivered within a second of the transaction that
 *   wrote it. A failed attempt is recorded on the item (attempts, nextAttemptAt), which itself
 *   emits a new stream record: if that retry is due within `maxWaitMs` the handler waits for it,
 *   otherwise the scheduled sweep picks it up. Records whose outcome could not be recorded (the
 *   table failed) are returned in `batchItemFailures`, so Lambda retries them (bisecting, then
 *   its on-failure destination / DLQ after the event source mapping's MaximumRetryAttempts).
 * - `createSweepHandler`: a schedule (EventBridge, every minute) that drains every route's due
 *   backlog, exactly like the local loop's round. It is what makes long back-offs, replays and
 *   an LRS that was down for an hour converge without depending on the stream.
 *
 * Sending the same statement twice (stream and sweep at once) is harmless: same id, same bytes.
 */

export interface AttributeValue {
  S?: string;
  N?: string;
  BOOL?: boolean;
  NULL?: boolean;
  M?: Record<string, AttributeValue>;
  L?: AttributeValue[];
  SS?: string[];
  NS?: string[];
}

export interface DynamoDBStreamRecord {
  eventID?: string;
  eventName?: "INSERT" | "MODIFY" | "REMOVE" | string;
  dynamodb?: { NewImage?: Record<string, AttributeValue>; SequenceNumber?: string };
}

export interface DynamoDBStreamEvent {
  Records: DynamoDBStreamRecord[];
}

export interface StreamBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** Enough of DynamoDB's JSON to read outbox items (no binary attributes there). */
export function fromAttributeValue(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL) return null;
  if (value.M) return fromImage(value.M);
  if (value.L) return value.L.map(fromAttributeValue);
  if (value.SS) return [...value.SS];
  if (value.NS) return value.NS.map(Number);
  return undefined;
}

export function fromImage(image: Record<string, AttributeValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(image).map(([k, v]) => [k, fromAttributeValue(v)]));
}

/** What Lambda's context tells the handlers: the time left before the function is stopped. */
export interface InvocationContext {
  getRemainingTimeInMillis?: () => number;
}

/** Time kept at the end of an invocation for writing outcomes (the rounds stop before it). */
const WRITE_MARGIN_MS = 15_000;

/** The rounds' deadline: the invocation's end less the write margin (60 s Lambdas when unknown). */
function deadlineOf(context: InvocationContext | undefined, startedAt: number): number {
  return startedAt + (context?.getRemainingTimeInMillis?.() ?? 60_000) - WRITE_MARGIN_MS;
}

export interface StreamHandlerOptions {
  /** Wait at most this long for a retry that is almost due (default 20 s). */
  maxWaitMs?: number;
  now?: () => Date;
  onSkipped?: (reason: string, record: DynamoDBStreamRecord) => void;
  /** Told of each outbox item its schema refuses (skipped, not retried); the function logs it as an error. */
  onUnreadable?: OnUnreadable;
}

interface PendingRecord {
  entry: OutboxEntry;
  sequenceNumber: string;
  record: DynamoDBStreamRecord;
}

/** The item of a record that is a pending outbox item, not yet read by its schema; else undefined. */
export function pendingOutboxItem(record: DynamoDBStreamRecord): Record<string, unknown> | undefined {
  const image = record.dynamodb?.NewImage;
  if (!image) return undefined;
  const item = fromImage(image);
  if (typeof item.pk !== "string" || !item.pk.startsWith("OUTBOX#") || item.status !== "pending")
    return undefined;
  return item;
}

export function createStreamHandler(
  deps: () => ForwarderDeps | Promise<ForwarderDeps>,
  options: StreamHandlerOptions = {},
): (event: DynamoDBStreamEvent, context?: InvocationContext) => Promise<StreamBatchResponse> {
  const maxWaitMs = options.maxWaitMs ?? 20_000;
  const now = options.now ?? (() => new Date());
  return async (event, context) => {
    const deadline = deadlineOf(context, Date.now());
    const d = { ...(await deps()), deadline };
    const latest = new Map<string, PendingRecord>();
    for (const record of event.Records) {
      const item = pendingOutboxItem(record);
      if (!item) continue;
      const {
        rows: [entry],
        unreadable: [bad],
      } = readRows([item], OutboxEntrySchema);
      if (bad) {
        options.onSkipped?.("not a readable outbox item", record);
        options.onUnreadable?.(unreadableRow(bad.item, bad.issues, "xAPI statements from the stream"));
        continue;
      }
      if (!entry) continue;
      const key = `${entry.statementId}#${entry.routeId}`;
      const previous = latest.get(key);
      // The newest image of an item wins, by its stream position (one item's records come in
      // order from one shard): a replay resets the attempts, so "most attempts" would keep the
      // older retry and park the replayed statement again at its next failure.
      if (!previous || isNewer(record, previous.record)) {
        latest.set(key, {
          entry,
          sequenceNumber: record.dynamodb?.SequenceNumber ?? record.eventID ?? key,
          record,
        });
      }
    }
    const nowMs = now().getTime();
    const due: PendingRecord[] = [];
    let waitUntil = nowMs;
    // Waiting for an almost-due retry must leave a round's worth of time (10 s) before the deadline.
    const waitLimit = Math.min(maxWaitMs, deadline - Date.now() - 10_000);
    for (const pending of latest.values()) {
      const at = Date.parse(pending.entry.nextAttemptAt);
      if (Number.isNaN(at) || at <= nowMs) due.push(pending);
      else if (at - nowMs <= waitLimit) {
        due.push(pending);
        waitUntil = Math.max(waitUntil, at);
      } else options.onSkipped?.("retry not due yet: left to the sweep", pending.record);
    }
    if (waitUntil > nowMs) await sleep(waitUntil - nowMs);
    const byRoute = new Map<string, PendingRecord[]>();
    for (const p of due) byRoute.set(p.entry.routeId, [...(byRoute.get(p.entry.routeId) ?? []), p]);
    const failures: { itemIdentifier: string }[] = [];
    await Promise.all(
      [...byRoute.entries()].map(async ([routeId, records]) => {
        try {
          await forwardEntries(
            routeId,
            records.map((r) => r.entry),
            d,
          );
        } catch {
          for (const r of records) failures.push({ itemIdentifier: r.sequenceNumber });
        }
      }),
    );
    return { batchItemFailures: failures };
  };
}

/** One sweep over every enabled route, bounded by `budgetMs` (keep it under the Lambda timeout). */
export function createSweepHandler(
  deps: () => ForwarderDeps | Promise<ForwarderDeps>,
  options: { budgetMs?: number } = {},
): (
  event?: unknown,
  context?: InvocationContext,
) => Promise<{ delivered: number; parked: number; retried: number }> {
  const budgetMs = options.budgetMs ?? 50_000;
  return async (_event, context) => {
    const started = Date.now();
    const d = { ...(await deps()), deadline: Math.min(started + budgetMs, deadlineOf(context, started)) };
    const totals = { delivered: 0, parked: 0, retried: 0 };
    const routes = (await d.routes.listRoutes()).filter((r) => r.enabled);
    await Promise.all(
      routes.map(async (route) => {
        // One route failing (its credentials cannot be opened, its query throttled) is that
        // route's: told, and the others drain on, every send of theirs recorded.
        try {
          // Keep draining a route while it has full pages due and answers well, within the budget.
          for (let round = 0; round < 1000 && Date.now() < d.deadline; round++) {
            const result = await drainRoute(route.routeId, d);
            totals.delivered += result.delivered;
            totals.parked += result.parked;
            totals.retried += result.retried;
            if (!result.fullPage || result.routeUnwell) break;
          }
        } catch (error) {
          d.onEvent?.(roundFailed(error, route.routeId));
        }
      }),
    );
    return totals;
  };
}

/** Whether `record` comes after `than` in the stream (sequence numbers are decimal strings); in batch order when either lacks one. */
function isNewer(record: DynamoDBStreamRecord, than: DynamoDBStreamRecord): boolean {
  const a = record.dynamodb?.SequenceNumber;
  const b = than.dynamodb?.SequenceNumber;
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return true;
  return BigInt(a) > BigInt(b);
}
