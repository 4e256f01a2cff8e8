import { setTimeout as sleep } from "node:timers/promises";
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  type TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { DomainEvent } from "../../domain/events.js";
import { tenantId } from "../../domain/tenancy.js";
import * as z from "../../domain/zod.js";
import { type BuiltStatement, buildStatement, type StatementSettings } from "../../statements/builders.js";
import { StatementTooLargeError } from "../../statements/errors.js";
import type {
  LrsRoute,
  LrsRouteStore,
  OutboxAdminStore,
  OutboxEntry,
  OutboxStatus,
  OutboxStore,
  ParkedDetails,
  RescheduledEntry,
  RouteBacklog,
} from "../../statements/ports.js";
import { conditionHeld } from "./conditional.js";
import { queryAll } from "./query.js";
import { keys, TABLE_KEYS } from "./table.js";
import { type OnUnreadable, queryReadable, readQueuePage } from "./unreadable.js";

/**
 * The durable xAPI outbox in the single table. A statement enters the outbox in the same
 * transaction as the change that caused it (`outboxTransactItems`), so there is never a change
 * without its statement nor a statement without its change. One item per (statement, route):
 *
 *   pk OUTBOX#<statementId>   sk ROUTE#<routeId>
 *   gsi1pk OUTBOX#<routeId>#<status>   gsi1sk <nextAttemptAt | deliveredAt | parkedAt>#<statementId>
 *
 * `body` holds the exact JSON built at first; the forwarder sends those bytes, every time.
 */

/** A write contributed to the caller's transaction (lib-dynamodb `TransactWriteCommand` item). */
export type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]["TransactItems"]
>[number];

export interface OutboxPut {
  Put: { TableName: string; Item: Record<string, unknown>; ConditionExpression: string };
}

/** Keep well under DynamoDB's 400 KB item limit, leaving room for the other attributes. */
export const MAX_STATEMENT_BYTES = 350_000;
/** Delivered entries stay this long (audit, re-send after an LRS restore), then TTL removes them. */
export const DEFAULT_DELIVERED_RETENTION_DAYS = 30;

function backlogSortKey(at: string, statementId: string): string {
  return `${at}#${statementId}`;
}

/**
 * The outbox items for built statements × the tenant's LRS routes, to add to the caller's
 * `TransactWriteCommand` beside the change that caused them. The condition makes an event
 * recorded twice fail the whole transaction (TransactionCanceledException with reason
 * ConditionalCheckFailed at these items' indexes), so a change recorded again cannot queue its
 * statement twice (the launch's event id is its single-use state's, refused before this).
 * No routes → no items (the tenant has no LRS). Mind the 100-items-per-transaction limit.
 */
export function outboxTransactItems(
  statements: readonly Pick<BuiltStatement, "id" | "json" | "eventType">[],
  routes: readonly Pick<LrsRoute, "routeId">[],
  options: { tableName: string; now: Date },
): OutboxPut[] {
  const at = options.now.toISOString();
  const items: OutboxPut[] = [];
  for (const statement of statements) {
    const size = Buffer.byteLength(statement.json, "utf8");
    if (size > MAX_STATEMENT_BYTES) {
      throw new StatementTooLargeError("This change produced an xAPI statement too large to record.", {
        context: { statementId: statement.id, bytes: size },
      });
    }
    for (const route of routes) {
      items.push({
        Put: {
          TableName: options.tableName,
          Item: {
            ...keys.outboxItem(statement.id, route.routeId),
            ...keys.outboxByStatus(route.routeId, "pending"),
            [TABLE_KEYS.gsi1sk]: backlogSortKey(at, statement.id),
            kind: "xapi-outbox",
            statementId: statement.id,
            routeId: route.routeId,
            eventType: statement.eventType,
            body: statement.json,
            status: "pending",
            attempts: 0,
            createdAt: at,
            nextAttemptAt: at,
          },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      });
    }
  }
  return items;
}

// Built on first use: only the forwarder and the admin pages read the outbox; a launch writes it.
const OutboxItemSchema = z.lazySchema(() =>
  z.object({
    statementId: z.string(),
    routeId: z.string(),
    body: z.string(),
    status: z.enum(["pending", "delivered", "parked"]),
    attempts: z.int().check(z.nonnegative()),
    createdAt: z.string(),
    nextAttemptAt: z.string(),
    replayedAt: z.optional(z.string()),
    eventType: z.optional(z.string()),
    lastError: z.optional(z.string()),
    deliveredAt: z.optional(z.string()),
    parkedReason: z.optional(z.string()),
    parkedAt: z.optional(z.string()),
    lrsStatus: z.optional(z.number()),
    lrsBody: z.optional(z.string()),
  }),
);

/** The outbox item schema, read into the entry the forwarder and the admin pages use. */
export const OutboxEntrySchema = {
  safeParse(item: unknown) {
    const parsed = OutboxItemSchema().safeParse(item);
    return parsed.success ? { success: true as const, data: entryOf(parsed.data) } : parsed;
  },
};

function entryOf(i: z.infer<ReturnType<typeof OutboxItemSchema>>): OutboxEntry {
  const parked: ParkedDetails | undefined =
    i.parkedReason !== undefined
      ? {
          reason: i.parkedReason,
          parkedAt: i.parkedAt ?? i.nextAttemptAt,
          ...(i.lrsStatus === undefined ? {} : { lrsStatus: i.lrsStatus }),
          ...(i.lrsBody === undefined ? {} : { lrsBody: i.lrsBody }),
        }
      : undefined;
  return {
    statementId: i.statementId,
    routeId: i.routeId,
    body: i.body,
    status: i.status,
    attempts: i.attempts,
    createdAt: i.createdAt,
    nextAttemptAt: i.nextAttemptAt,
    ...(i.replayedAt === undefined ? {} : { replayedAt: i.replayedAt }),
    ...(i.eventType === undefined ? {} : { eventType: i.eventType }),
    ...(i.lastError === undefined ? {} : { lastError: i.lastError }),
    ...(i.deliveredAt === undefined ? {} : { deliveredAt: i.deliveredAt }),
    ...(parked ? { parked } : {}),
  };
}

/**
 * A row the schema refuses does not stop a route: a due one is put back an hour behind the
 * route's queue (`readQueuePage`), one in an admin list is left out; each is reported to
 * `onUnreadable` (the functions log it as an error).
 */
export class DynamoOutboxStore implements OutboxStore, OutboxAdminStore {
  private readonly retentionSeconds: number;
  private readonly onUnreadable: OnUnreadable | undefined;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: { deliveredRetentionDays?: number; onUnreadable?: OnUnreadable } = {},
  ) {
    this.retentionSeconds = (options.deliveredRetentionDays ?? DEFAULT_DELIVERED_RETENTION_DAYS) * 86_400;
    this.onUnreadable = options.onUnreadable;
  }

  async listDue(routeId: string, now: Date, limit: number): Promise<OutboxEntry[]> {
    const items = await queryAll(
      this.doc,
      {
        TableName: this.tableName,
        IndexName: TABLE_KEYS.gsi1,
        KeyConditionExpression: "#gpk = :gpk AND #gsk <= :due",
        ExpressionAttributeNames: { "#gpk": TABLE_KEYS.gsi1pk, "#gsk": TABLE_KEYS.gsi1sk },
        ExpressionAttributeValues: {
          ":gpk": keys.outboxByStatus(routeId, "pending").gsi1pk,
          // Everything whose next attempt is at or before now ('~' sorts after any uuid).
          ":due": `${now.toISOString()}#~`,
        },
        Limit: limit,
      },
      { maxItems: limit },
    );
    // gsi1 is eventually consistent: an entry just delivered may still show as pending here.
    // Sending it again is harmless (same id, same bytes) and markDelivered is idempotent.
    const entries = await readQueuePage(this.doc, this.tableName, items, OutboxEntrySchema, {
      now,
      reading: "xAPI statements due",
      onUnreadable: this.onUnreadable,
    });
    return entries.filter((e) => e.status === "pending");
  }

  /** The whole item of an entry in a new state (for unconditional batch puts). */
  private itemOf(e: OutboxEntry, state: Record<string, unknown>, gsi1: { gsi1pk: string }, sortAt: string) {
    return {
      ...keys.outboxItem(e.statementId, e.routeId),
      ...gsi1,
      [TABLE_KEYS.gsi1sk]: backlogSortKey(sortAt, e.statementId),
      kind: "xapi-outbox",
      statementId: e.statementId,
      routeId: e.routeId,
      ...(e.eventType === undefined ? {} : { eventType: e.eventType }),
      body: e.body,
      createdAt: e.createdAt,
      // A replay's time: the forwarder counts its three days of trying from it.
      ...(e.replayedAt === undefined ? {} : { replayedAt: e.replayedAt }),
      ...state,
    };
  }

  async markDelivered(entries: readonly OutboxEntry[], at: Date): Promise<void> {
    const deliveredAt = at.toISOString();
    const expiresAt = Math.floor(at.getTime() / 1000) + this.retentionSeconds;
    // Delivered is final and true whatever else happened meanwhile, so an unconditional put of
    // the whole item is safe, and BatchWrite (25 per call) keeps throughput high.
    await this.putAll(
      entries.map((e) =>
        this.itemOf(
          e,
          {
            status: "delivered",
            attempts: e.attempts + 1,
            nextAttemptAt: e.nextAttemptAt,
            deliveredAt,
            [TABLE_KEYS.ttl]: expiresAt,
          },
          keys.outboxByStatus(e.routeId, "delivered"),
          deliveredAt,
        ),
      ),
    );
  }

  /**
   * Failed attempts, written as whole items in batches (25 per call) rather than one
   * conditional update each: after a transient failure a whole batch of 50 is rescheduled at
   * once, and the batch write is what keeps an LRS outage cheap. The price: if another worker
   * (stream and sweep at once) delivered or parked an entry meanwhile, this can set it back to
   * pending, which costs one more send of the same bytes; the LRS treats it as the same
   * statement, so the outcome converges.
   */
  async reschedule(retries: readonly RescheduledEntry[]): Promise<void> {
    await this.putAll(
      retries.map(({ entry, attempts, nextAttemptAt, lastError }) => {
        const at = nextAttemptAt.toISOString();
        return this.itemOf(
          entry,
          { status: "pending", attempts, nextAttemptAt: at, lastError },
          keys.outboxByStatus(entry.routeId, "pending"),
          at,
        );
      }),
    );
  }

  private async putAll(items: Record<string, unknown>[]): Promise<void> {
    const chunks: { PutRequest: { Item: Record<string, unknown> } }[][] = [];
    for (let i = 0; i < items.length; i += 25) {
      chunks.push(items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })));
    }
    await Promise.all(chunks.map((chunk) => this.batchWrite(chunk)));
  }

  private async batchWrite(requests: { PutRequest: { Item: Record<string, unknown> } }[]): Promise<void> {
    let pending = requests;
    // Unprocessed items come back under throttling: retry them, bounded (8 tries, ≤ ~2.5 s).
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= 8) throw new Error(`DynamoDB left ${pending.length} outbox writes unprocessed`);
      if (attempt > 0) await sleep(Math.min(1000, 20 * 2 ** attempt));
      const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
      const left = out.UnprocessedItems?.[this.tableName] ?? [];
      pending = left.flatMap((r) =>
        r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : [],
      );
    }
  }

  async park(entry: OutboxEntry, details: ParkedDetails & { attempts: number }): Promise<void> {
    const values: Record<string, unknown> = {
      ":parked": "parked",
      ":gpk": keys.outboxByStatus(entry.routeId, "parked").gsi1pk,
      ":gsk": backlogSortKey(details.parkedAt, entry.statementId),
      ":reason": details.reason,
      ":parkedAt": details.parkedAt,
      ":attempts": details.attempts,
      ":pending": "pending",
    };
    const sets = [
      "#status = :parked",
      "#gpk = :gpk",
      "#gsk = :gsk",
      "parkedReason = :reason",
      "parkedAt = :parkedAt",
      "attempts = :attempts",
    ];
    const removes: string[] = [];
    for (const [name, value] of [
      ["lrsStatus", details.lrsStatus],
      ["lrsBody", details.lrsBody],
    ] as const) {
      if (value === undefined) removes.push(name);
      else {
        sets.push(`${name} = :${name}`);
        values[`:${name}`] = value;
      }
    }
    await conditionHeld(
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.outboxItem(entry.statementId, entry.routeId),
          UpdateExpression: `SET ${sets.join(", ")}${removes.length > 0 ? ` REMOVE ${removes.join(", ")}` : ""}`,
          ConditionExpression: "#status = :pending",
          ExpressionAttributeNames: {
            "#status": "status",
            "#gpk": TABLE_KEYS.gsi1pk,
            "#gsk": TABLE_KEYS.gsi1sk,
          },
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  private async count(
    routeId: string,
    status: OutboxStatus,
    maxPages: number,
  ): Promise<{ n: number; capped: boolean }> {
    let n = 0;
    let start: Record<string, unknown> | undefined;
    for (let page = 0; page < maxPages; page++) {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TABLE_KEYS.gsi1,
          KeyConditionExpression: "#gpk = :gpk",
          ExpressionAttributeNames: { "#gpk": TABLE_KEYS.gsi1pk },
          ExpressionAttributeValues: { ":gpk": keys.outboxByStatus(routeId, status).gsi1pk },
          Select: "COUNT",
          ExclusiveStartKey: start,
        }),
      );
      n += out.Count ?? 0;
      start = out.LastEvaluatedKey;
      if (!start) return { n, capped: false };
    }
    return { n, capped: true };
  }

  async backlog(routeId: string): Promise<RouteBacklog> {
    const [pending, delivered, parked, lastFailure] = await Promise.all([
      this.count(routeId, "pending", 20),
      this.count(routeId, "delivered", 20),
      this.count(routeId, "parked", 20),
      this.lastFailure(routeId),
    ]);
    return {
      pending: pending.n,
      delivered: delivered.n,
      parked: parked.n,
      capped: pending.capped || delivered.capped || parked.capped,
      ...(lastFailure ? { lastFailure } : {}),
    };
  }

  /** Among the first waiting entries, by when they are due, the first that has failed. */
  private async lastFailure(routeId: string): Promise<RouteBacklog["lastFailure"]> {
    const failed = (await this.firstWith(routeId, "pending", 25, "oldest")).find(
      (e) => e.attempts > 0 && e.lastError,
    );
    return failed?.lastError
      ? { error: failed.lastError, attempts: failed.attempts, nextAttemptAt: failed.nextAttemptAt }
      : undefined;
  }

  async listParked(routeId: string, limit: number): Promise<OutboxEntry[]> {
    return this.firstWith(routeId, "parked", limit, "newest");
  }

  /**
   * One page of a route's entries in one state, by their time in the index (due time, parking
   * time). gsi1 is eventually consistent: an entry whose state has just changed is left out.
   */
  private async firstWith(
    routeId: string,
    status: OutboxStatus,
    limit: number,
    order: "oldest" | "newest",
  ): Promise<OutboxEntry[]> {
    const entries = await queryReadable(
      this.doc,
      {
        TableName: this.tableName,
        IndexName: TABLE_KEYS.gsi1,
        KeyConditionExpression: "#gpk = :gpk",
        ExpressionAttributeNames: { "#gpk": TABLE_KEYS.gsi1pk },
        ExpressionAttributeValues: { ":gpk": keys.outboxByStatus(routeId, status).gsi1pk },
        ScanIndexForward: order === "oldest",
      },
      OutboxEntrySchema,
      { limit, reading: `${status} xAPI statements`, onUnreadable: this.onUnreadable },
    );
    return entries.filter((e) => e.status === status);
  }

  async replayParked(routeId: string, statementId: string, now: Date): Promise<boolean> {
    const at = now.toISOString();
    return conditionHeld(
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.outboxItem(statementId, routeId),
          // Back to pending, due now, with a fresh attempt budget; the parked reason becomes the
          // last error so the history is not lost.
          UpdateExpression:
            "SET #status = :pending, #gpk = :gpk, #gsk = :gsk, attempts = :zero, nextAttemptAt = :at, lastError = parkedReason, replayedAt = :at REMOVE parkedReason, parkedAt, lrsStatus, lrsBody",
          ConditionExpression: "#status = :parked",
          ExpressionAttributeNames: {
            "#status": "status",
            "#gpk": TABLE_KEYS.gsi1pk,
            "#gsk": TABLE_KEYS.gsi1sk,
          },
          ExpressionAttributeValues: {
            ":pending": "pending",
            ":parked": "parked",
            ":gpk": keys.outboxByStatus(routeId, "pending").gsi1pk,
            ":gsk": backlogSortKey(at, statementId),
            ":zero": 0,
            ":at": at,
          },
        }),
      ),
    );
  }

  async replayAllParked(routeId: string, now: Date): Promise<number> {
    let replayed = 0;
    // Bounded: at most 100 pages of 100 per call; the admin can press again for more.
    for (let page = 0; page < 100; page++) {
      const parked = await this.listParked(routeId, 100);
      if (parked.length === 0) break;
      const results = await Promise.all(parked.map((e) => this.replayParked(routeId, e.statementId, now)));
      const moved = results.filter(Boolean).length;
      replayed += moved;
      if (moved === 0) break;
    }
    return replayed;
  }
}

/**
 * The convenient front door for code that records a change: domain events in, transaction
 * items out. Resolves the tenant's LRS routes and actor identifier type, builds each event's
 * statement once, and returns the outbox Puts to add to the change's own transaction.
 *
 *   const xapi = new XapiOutboxWriter(routeStore, { tableName, emitter: "hlta-lti-tool/0.1.0" });
 *   const { items } = await xapi.transactItemsFor([launchedEvent]);
 *   await enrolments.recordLaunch(enrolment, items);
 */
export class XapiOutboxWriter {
  constructor(
    private readonly routes: Pick<LrsRouteStore, "resolveTenant">,
    private readonly options: Omit<StatementSettings, "actorIdentifier"> & {
      tableName: string;
      now?: () => Date;
    },
  ) {}

  async transactItemsFor(
    events: readonly DomainEvent[],
  ): Promise<{ items: OutboxPut[]; statements: BuiltStatement[]; notes: string[] }> {
    const { tableName, now, ...settings } = this.options;
    const at = now?.() ?? new Date();
    const items: OutboxPut[] = [];
    const statements: BuiltStatement[] = [];
    const targets = new Map<string, Awaited<ReturnType<LrsRouteStore["resolveTenant"]>>>();
    for (const event of events) {
      const key = tenantId(event.course);
      let target = targets.get(key);
      if (!target) {
        target = await this.routes.resolveTenant(event.course);
        targets.set(key, target);
      }
      if (target.routes.length === 0) continue;
      const built = buildStatement(event, { ...settings, actorIdentifier: target.actorIdentifier });
      statements.push(built);
      items.push(...outboxTransactItems([built], target.routes, { tableName, now: at }));
    }
    return { items, statements, notes: statements.flatMap((s) => s.notes) };
  }
}
