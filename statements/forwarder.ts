import { setTimeout as sleep } from "node:timers/promises";
import { isRedirect } from "../domain/http-body.js";
import {
  type BackoffPolicy,
  type BatchLimits,
  backoffDelay,
  DEFAULT_BACKOFF,
  DEFAULT_BATCH_LIMITS,
  planBatches,
} from "./batching.js";
import { sameStatement } from "./equivalence.js";
import { createLrsClient, excerpt } from "./lrs-client.js";
import type {
  LrsAnswer,
  LrsClient,
  LrsRouteStore,
  LrsRouteWithCredentials,
  OutboxEntry,
  OutboxStore,
  RescheduledEntry,
} from "./ports.js";

/**
 * The forwarder: delivers outbox entries to their LRS in batches and decides, per statement,
 * between delivered, retry later and parked. Pure logic over ports (outbox, routes, LRS
 * client), shared by the local loop (`startForwarderLoop`) and the Lambda stream handler
 * (`forwardEntries`).
 *
 * Per LRS answer (xapi.md, "How the best emitters deliver"):
 * - 2xx: delivered. A 200 (or any 2xx but 204) lists the ids it stored; an unlisted one is looked
 *   up by id (ours → delivered; an LRS key that may not read → taken at the 2xx's word). 204
 *   has no body. A 2xx without the list is retried.
 * - 429, 5xx, timeout, refused or reset connection: the LRS is unwell, not the statements; keep
 *   them pending and retry after a full-jitter back-off.
 * - 400, 413: one statement can spoil a batch, so split it in halves until the culprit is
 *   alone; the rest is delivered. A culprit is parked with the LRS's answer.
 * - 409: the LRS holds a statement with one of our ids. That may be ours (some LRSs answer 409
 *   to identical resends): GET each, settle what is held (ours → delivered, another → parked),
 *   send the rest again (`deliverBatch`), halving to find the culprit. A GET the route's key may
 *   not make (401, 403, 405) settles nothing: that statement is resent, and alone with a 409
 *   it is parked, saying the key needs read access.
 * - Anything else (401, 403, 404, ...) is a configuration problem of the route: retry, so that
 *   fixing the credentials resumes delivery; after `maxAttempts` attempts over at least
 *   `keepTryingMs` (three days) the statement is parked.
 */

export interface ForwarderPolicy {
  batch: BatchLimits;
  backoff: BackoffPolicy;
  /**
   * A statement whose sends keep failing for passing reasons (an LRS down, timeouts) or for the
   * route's (401, 403, 404: its credentials) is parked only once both hold: this many failed
   * attempts, and `keepTryingMs` since it was recorded or last replayed. Attempts alone (with
   * back-off capped at 5 minutes) would park every waiting statement after an outage of about
   * 40 minutes, and a route fixed the next morning would find them all parked.
   */
  maxAttempts: number;
  keepTryingMs: number;
  /** Per LRS request. */
  requestTimeoutMs: number;
  /**
   * Every LRS request of one round, conflict checks included (the Lambdas stop at 60 s): past
   * it no batch starts and requests in flight end, so every outcome is written before then.
   */
  roundBudgetMs: number;
  /** Due entries read per route and round. */
  pageSize: number;
  /** Batches in flight per route. */
  concurrency: number;
  /** Outcome writes (delivered / retry / parked) outstanding while the next batches are sent. */
  maxPendingWrites: number;
}

export const DEFAULT_FORWARDER_POLICY: ForwarderPolicy = {
  batch: DEFAULT_BATCH_LIMITS,
  backoff: DEFAULT_BACKOFF,
  maxAttempts: 24,
  keepTryingMs: 3 * 24 * 3_600_000,
  requestTimeoutMs: 10_000,
  roundBudgetMs: 40_000,
  pageSize: 1_000,
  concurrency: 4,
  maxPendingWrites: 16,
};

export type DeliveryOutcome =
  | { kind: "delivered"; entry: OutboxEntry }
  | { kind: "parked"; entry: OutboxEntry; reason: string; lrsStatus?: number; lrsBody?: string }
  | {
      kind: "retry";
      entry: OutboxEntry;
      /** Kept with the entry for the admin page: it may quote the LRS's answer. */
      error: string;
      /** The same without the LRS's answer, for logs (an LRS may echo statement content). */
      logError?: string;
      retryAfterMs?: number;
    };

export type ForwarderEvent =
  | { type: "delivered"; routeId: string; count: number }
  | { type: "parked"; routeId: string; statementId: string; reason: string; lrsStatus?: number }
  | { type: "retry"; routeId: string; count: number; error: string }
  | { type: "round_failed"; routeId?: string; message: string };

/** The event for a round that failed: for one route, or before any route was read. */
export function roundFailed(error: unknown, routeId?: string): ForwarderEvent {
  return {
    type: "round_failed",
    ...(routeId === undefined ? {} : { routeId }),
    message: error instanceof Error ? error.message : String(error),
  };
}

/** What a non-network answer means for the statements in the request. */
type Verdict = "delivered" | "transient" | "split" | "misconfigured";

function verdictOf(status: number): Verdict {
  if (status >= 200 && status < 300) return "delivered";
  if (status === 429 || status >= 500) return "transient";
  if (status === 400 || status === 409 || status === 413) return "split";
  return "misconfigured";
}

function describe(answer: LrsAnswer, withBody = true): string {
  if (answer.kind === "network") return answer.message;
  if (isRedirect(answer.status)) {
    return `the LRS answered ${answer.status}, a redirect: the tool follows none, so the route's endpoint must be the LRS's own address`;
  }
  return `the LRS answered ${answer.status}${withBody && answer.body ? `: ${excerpt(answer.body, 300)}` : ""}`;
}

/**
 * The ids a 200 to a POST lists (lower case), or undefined when it lists none: xAPI 1.0.3
 * §7.2.2 answers 200 with the ids of the statements stored, so a body that is not such a list
 * (a login page, an error) is not a delivery, whatever its status says. 204 has no body.
 */
function listedIds(answer: LrsAnswer & { kind: "response" }): Set<string> | undefined {
  let ids: unknown;
  try {
    ids = JSON.parse(answer.body);
  } catch {
    return undefined;
  }
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string")) return undefined;
  return new Set(ids.map((id: string) => id.toLowerCase()));
}

/**
 * A 2xx's outcome per statement: a 200's listed ids → delivered. An LRS may leave out a
 * statement it already held (SQL LRS and Ralph list only what they inserted, which is what a
 * batch resent after a lost answer meets), so each unlisted one is looked up by id: ours →
 * delivered, absent → sent again later, another → parked.
 */
async function confirmBatch(
  entries: readonly OutboxEntry[],
  answer: LrsAnswer & { kind: "response" },
  client: LrsClient,
): Promise<DeliveryOutcome[]> {
  if (answer.status === 204) return entries.map((entry) => ({ kind: "delivered", entry }));
  // Any other 2xx (201, 202 "accepted, not stored yet", 206) counts only with the list of ids.
  const listed = listedIds(answer);
  if (!listed) {
    return retryAll(entries, {
      kind: "network",
      reason: "other",
      message: `the LRS answered ${answer.status} without the list of statement ids it stored`,
    });
  }
  const unlisted = entries.filter((e) => !listed.has(e.statementId.toLowerCase()));
  const checks = await mapLimit(unlisted, CONFLICT_CHECK_CONCURRENCY, (e) => checkHeld(e, answer, client));
  const byEntry = new Map(unlisted.map((e, i) => [e, checks[i]]));
  return entries.map((entry): DeliveryOutcome => {
    if (!byEntry.has(entry)) return { kind: "delivered", entry };
    const check = byEntry.get(entry);
    // Held, unlisted and not ours would have been a 409 for the whole batch (xAPI 1.0.3
    // Communication §2.1.2): a key that may write but not read is taken at the 2xx's word.
    if (check === "unreadable") return { kind: "delivered", entry };
    return check === undefined || check === "absent"
      ? { kind: "retry", entry, error: "the LRS answered 200 but neither listed nor holds this statement" }
      : check;
  });
}

function retryAll(entries: readonly OutboxEntry[], answer: LrsAnswer): DeliveryOutcome[] {
  const error = describe(answer);
  const logError = describe(answer, false);
  const retryAfterMs = answer.kind === "response" ? answer.retryAfterMs : undefined;
  return entries.map((entry) => ({
    kind: "retry",
    entry,
    error,
    logError,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  }));
}

const PARK_REASONS: Record<number, string> = {
  400: "the LRS rejected the statement as invalid",
  413: "the statement is larger than the LRS accepts",
};

/**
 * After a 409: does the LRS hold this statement? Ours (xAPI Data §2.3.1 comparison) →
 * delivered; another statement under our id → parked; none → "absent" (send it again).
 */
async function checkHeld(
  entry: OutboxEntry,
  conflict: LrsAnswer & { kind: "response" },
  client: LrsClient,
): Promise<DeliveryOutcome | "absent" | "unreadable"> {
  const answer = await client.getStatement(entry.statementId);
  if (answer.kind === "network" || verdictOf(answer.status) === "transient") {
    const [retry] = retryAll([entry], answer);
    return retry ?? "absent";
  }
  if (answer.status === 404) return "absent";
  // The route's key may write statements but not read them (a common least-privilege key).
  if (UNREADABLE.has(answer.status)) return "unreadable";
  if (answer.status !== 200) {
    return { kind: "retry", entry, error: `GET of the statement after a 409 answered ${answer.status}` };
  }
  let stored: unknown;
  try {
    stored = JSON.parse(answer.body);
  } catch {
    stored = undefined;
  }
  if (sameStatement(entry.body, stored)) return { kind: "delivered", entry };
  // Not this statement at all (a login page, an error object, a list): nothing is known yet.
  const storedId = (stored as { id?: unknown } | undefined)?.id;
  if (typeof storedId !== "string" || storedId.toLowerCase() !== entry.statementId.toLowerCase()) {
    return {
      kind: "retry",
      entry,
      error: "the LRS answered the GET by id with something that is not this statement",
    };
  }
  return {
    kind: "parked",
    entry,
    reason: "the LRS holds a different statement with this id",
    lrsStatus: conflict.status,
    lrsBody: excerpt(conflict.body),
  };
}

/** Run `task` over `items`, at most `limit` at a time, keeping the order of results. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await task(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A GET by id the LRS does not allow this route's key: nothing can be compared. */
const UNREADABLE = new Set([401, 403, 405]);

/** GETs in flight while resolving a 409. */
const CONFLICT_CHECK_CONCURRENCY = 8;

/**
 * Deliver one batch (≤ the batch limits). Returns one outcome per entry, in the order given.
 *
 * On 409, each statement is looked up by id first (some LRSs answer 409 to a batch that merely
 * repeats a statement they already hold, e.g. after a timed-out request that they did store):
 * what they hold is settled, and only the rest is sent again. This makes progress statement by
 * statement even on a flaky LRS, where halving would need every request down a deep split
 * tree to succeed. On 400 and 413, and on a 409 again after that check, the batch is split in
 * halves until the culprit is alone.
 */
export async function deliverBatch(
  entries: readonly OutboxEntry[],
  client: LrsClient,
  options: { conflictChecked?: boolean } = {},
): Promise<DeliveryOutcome[]> {
  if (entries.length === 0) return [];
  const answer = await client.postStatements(entries.map((e) => e.body));
  if (answer.kind === "network") return retryAll(entries, answer);
  const verdict = verdictOf(answer.status);
  if (verdict === "delivered") return confirmBatch(entries, answer, client);
  if (verdict === "transient" || verdict === "misconfigured") return retryAll(entries, answer);
  if (answer.status === 409 && !options.conflictChecked) {
    const checks = await mapLimit(entries, CONFLICT_CHECK_CONCURRENCY, (e) => checkHeld(e, answer, client));
    // Absent ones are sent again; those the LRS will not let the tool read too, and halving
    // (conflict checked) then finds which one the 409 is about.
    const unsettled = (i: number) => checks[i] === "absent" || checks[i] === "unreadable";
    const resent = await deliverBatch(
      entries.filter((_, i) => unsettled(i)),
      client,
      { conflictChecked: true },
    );
    const byEntry = new Map(resent.map((o) => [o.entry, o]));
    return entries.map((entry, i) => {
      const check = checks[i];
      return check === undefined || unsettled(i)
        ? (byEntry.get(entry) ?? { kind: "retry", entry, error: "not sent" })
        : (check as DeliveryOutcome);
    });
  }
  if (entries.length > 1) {
    const middle = Math.ceil(entries.length / 2);
    const left = await deliverBatch(entries.slice(0, middle), client, options);
    // If the LRS became unwell meanwhile, do not keep hammering it with the other half.
    if (left.some((o) => o.kind === "retry")) {
      return [...left, ...retryAll(entries.slice(middle), answerFromRetry(left))];
    }
    return [...left, ...(await deliverBatch(entries.slice(middle), client, options))];
  }
  const [entry] = entries;
  if (!entry) return [];
  if (answer.status === 409) {
    const check = await checkHeld(entry, answer, client);
    // 409 to the POST, yet no statement with this id to GET: an LRS quirk or a race; try later.
    if (check === "absent") {
      return [{ kind: "retry", entry, error: "the LRS answered 409 but holds no statement with this id" }];
    }
    // Alone, and still a 409 the tool cannot look into: shown to the administrator, who can give
    // the key read access and send it again.
    if (check === "unreadable") {
      return [
        {
          kind: "parked",
          entry,
          reason:
            "the LRS holds a statement with this id (409) and does not let the route's key read statements to compare: give the key read access, then send it again",
          lrsStatus: answer.status,
          lrsBody: excerpt(answer.body),
        },
      ];
    }
    return [check];
  }
  return [
    {
      kind: "parked",
      entry,
      reason: PARK_REASONS[answer.status] ?? `the LRS refused the statement (${answer.status})`,
      lrsStatus: answer.status,
      lrsBody: excerpt(answer.body),
    },
  ];
}

function answerFromRetry(outcomes: readonly DeliveryOutcome[]): LrsAnswer {
  const retry = outcomes.find((o) => o.kind === "retry");
  return {
    kind: "network",
    reason: "other",
    message: retry?.kind === "retry" ? `not sent: ${retry.error}` : "not sent",
  };
}

export interface ForwarderDeps {
  /**
   * When the function running this stops (epoch ms, a margin for the writes taken off): a round
   * gets at most the time left, and none starts past it. Unset: only `roundBudgetMs` bounds it.
   */
  deadline?: number;
  outbox: OutboxStore;
  routes: Pick<LrsRouteStore, "listRoutes" | "getRouteWithCredentials">;
  policy?: Partial<ForwarderPolicy>;
  /**
   * Builds the LRS client of a route; defaults to `createLrsClient` with the route's credentials.
   * `budget` aborts when the round's time is up.
   */
  clientFor?: (route: LrsRouteWithCredentials, policy: ForwarderPolicy, budget: AbortSignal) => LrsClient;
  now?: () => Date;
  random?: () => number;
  /** Structured events for logs and metrics; never carries credentials or statement bodies. */
  onEvent?: (event: ForwarderEvent) => void;
}

export interface RoundResult {
  delivered: number;
  parked: number;
  retried: number;
  /** The route answered transiently: the caller should leave it alone until `retryAt`. */
  routeUnwell?: { retryAt: Date };
}

function resolvedPolicy(deps: ForwarderDeps): ForwarderPolicy {
  return {
    ...DEFAULT_FORWARDER_POLICY,
    ...deps.policy,
    batch: { ...DEFAULT_FORWARDER_POLICY.batch, ...deps.policy?.batch },
    backoff: { ...DEFAULT_FORWARDER_POLICY.backoff, ...deps.policy?.backoff },
  };
}

function defaultClientFor(
  route: LrsRouteWithCredentials,
  policy: ForwarderPolicy,
  budget: AbortSignal,
): LrsClient {
  return createLrsClient({
    endpoint: route.endpoint,
    credentials: route.credentials,
    timeoutMs: policy.requestTimeoutMs,
    signal: budget,
  });
}

/** Write the outcomes of one batch to the outbox. */
async function applyOutcomes(
  routeId: string,
  outcomes: readonly DeliveryOutcome[],
  deps: ForwarderDeps,
  policy: ForwarderPolicy,
): Promise<RoundResult> {
  const now = (deps.now ?? (() => new Date()))();
  const random = deps.random ?? Math.random;
  const delivered = outcomes.filter((o) => o.kind === "delivered").map((o) => o.entry);
  const result: RoundResult = { delivered: delivered.length, parked: 0, retried: 0 };
  if (delivered.length > 0) {
    await deps.outbox.markDelivered(delivered, now);
    deps.onEvent?.({ type: "delivered", routeId, count: delivered.length });
  }
  let latestRetry: number | undefined;
  const writes: Promise<void>[] = [];
  const retries: RescheduledEntry[] = [];
  for (const outcome of outcomes) {
    const attempts = outcome.entry.attempts + 1;
    const since = Date.parse(outcome.entry.replayedAt ?? outcome.entry.createdAt);
    const givenUp = attempts >= policy.maxAttempts && !(now.getTime() - since < policy.keepTryingMs);
    if (outcome.kind === "parked" || (outcome.kind === "retry" && givenUp)) {
      const gaveUp = (last: string) =>
        `gave up after ${attempts} attempts over ${durationWords(now.getTime() - since)}; last: ${last}`;
      const details =
        outcome.kind === "parked"
          ? {
              reason: outcome.reason,
              ...(outcome.lrsStatus === undefined ? {} : { lrsStatus: outcome.lrsStatus }),
              ...(outcome.lrsBody === undefined ? {} : { lrsBody: outcome.lrsBody }),
            }
          : { reason: gaveUp(outcome.error) };
      result.parked += 1;
      writes.push(deps.outbox.park(outcome.entry, { ...details, attempts, parkedAt: now.toISOString() }));
      deps.onEvent?.({
        type: "parked",
        routeId,
        statementId: outcome.entry.statementId,
        // Logs never quote the LRS's answer: the admin page shows it, from the table.
        reason: outcome.kind === "retry" ? gaveUp(outcome.logError ?? outcome.error) : details.reason,
        ...("lrsStatus" in details && details.lrsStatus !== undefined
          ? { lrsStatus: details.lrsStatus }
          : {}),
      });
    } else if (outcome.kind === "retry") {
      const delay = backoffDelay(outcome.entry.attempts, policy.backoff, random, outcome.retryAfterMs);
      const nextAttemptAt = new Date(now.getTime() + delay);
      latestRetry = Math.max(latestRetry ?? 0, nextAttemptAt.getTime());
      result.retried += 1;
      retries.push({ entry: outcome.entry, attempts, nextAttemptAt, lastError: outcome.error });
    }
  }
  if (retries.length > 0) writes.push(deps.outbox.reschedule(retries));
  await Promise.all(writes);
  if (result.retried > 0) {
    const first = outcomes.find((o) => o.kind === "retry");
    deps.onEvent?.({
      type: "retry",
      routeId,
      count: result.retried,
      error: first?.kind === "retry" ? (first.logError ?? first.error) : "",
    });
  }
  if (latestRetry !== undefined) result.routeUnwell = { retryAt: new Date(latestRetry) };
  return result;
}

function add(a: RoundResult, b: RoundResult): RoundResult {
  const unwell = [a.routeUnwell?.retryAt, b.routeUnwell?.retryAt].filter((d): d is Date => d !== undefined);
  return {
    delivered: a.delivered + b.delivered,
    parked: a.parked + b.parked,
    retried: a.retried + b.retried,
    ...(unwell.length > 0
      ? { routeUnwell: { retryAt: new Date(Math.min(...unwell.map((d) => d.getTime()))) } }
      : {}),
  };
}

const EMPTY: RoundResult = { delivered: 0, parked: 0, retried: 0 };

/**
 * Forward given entries of one route (already read from the outbox or a stream). Batches run
 * `concurrency` at a time; once one answers transiently the remaining batches are not sent in
 * this round (they stay pending, untouched, and go with the next round).
 */
export async function forwardEntries(
  routeId: string,
  entries: readonly OutboxEntry[],
  deps: ForwarderDeps,
): Promise<RoundResult> {
  if (entries.length === 0) return EMPTY;
  const policy = resolvedPolicy(deps);
  const route = await deps.routes.getRouteWithCredentials(routeId);
  if (!route) {
    const outcomes = entries.map(
      (entry): DeliveryOutcome => ({
        kind: "parked",
        entry,
        reason: "the LRS route of this statement was removed",
      }),
    );
    return applyOutcomes(routeId, outcomes, deps, policy);
  }
  if (!route.enabled) return EMPTY;
  const left = deps.deadline === undefined ? Number.POSITIVE_INFINITY : deps.deadline - Date.now();
  // No time left: the entries stay pending, untouched, for the next round or the sweep.
  if (left <= 0) return EMPTY;
  const budget = AbortSignal.timeout(Math.min(policy.roundBudgetMs, left));
  const client = (deps.clientFor ?? defaultClientFor)(route, policy, budget);
  const queue = planBatches(entries, (e) => e.body, policy.batch);
  let total = EMPTY;
  let unwell = false;
  // Recording outcomes overlaps with sending the next batches (the LRS and the table work at
  // the same time), bounded by `maxPendingWrites`; the round ends when every write is done.
  const outstanding = new Set<Promise<void>>();
  let writeError: { error: unknown } | undefined;
  const record = (outcomes: DeliveryOutcome[]) => {
    const write: Promise<void> = applyOutcomes(routeId, outcomes, deps, policy).then(
      (result) => {
        total = add(total, result);
      },
      (error: unknown) => {
        writeError ??= { error };
      },
    );
    outstanding.add(write);
    void write.finally(() => outstanding.delete(write));
  };
  const worker = async () => {
    for (
      let batch = queue.shift();
      batch && !unwell && !writeError && !budget.aborted;
      batch = unwell || budget.aborted ? undefined : queue.shift()
    ) {
      const outcomes = await deliverBatch(batch, client);
      if (outcomes.some((o) => o.kind === "retry")) unwell = true;
      record(outcomes);
      while (outstanding.size >= policy.maxPendingWrites) await Promise.race(outstanding);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, policy.concurrency) }, worker));
  await Promise.all(outstanding);
  if (writeError) throw writeError.error;
  return total;
}

/** One round over one route: read what is due and forward it. */
export async function drainRoute(
  routeId: string,
  deps: ForwarderDeps,
): Promise<RoundResult & { fullPage: boolean }> {
  const policy = resolvedPolicy(deps);
  const now = (deps.now ?? (() => new Date()))();
  const due = await deps.outbox.listDue(routeId, now, policy.pageSize);
  const result = await forwardEntries(routeId, due, deps);
  return { ...result, fullPage: due.length >= policy.pageSize };
}

export interface ForwarderLoopOptions extends ForwarderDeps {
  /** Pause between rounds when there is nothing more to send right away. */
  intervalMs: number;
}

/**
 * The local forwarder (dev server): rounds over every enabled route until stopped. A route that
 * answered transiently is left alone until its back-off ends; a route with a full page of due
 * statements gets another round at once. Returns `stop`, which waits for the round in flight.
 */
export function startForwarderLoop(options: ForwarderLoopOptions): () => Promise<void> {
  const resting = new Map<string, number>();
  const controller = new AbortController();
  let stopped = false;

  const round = async (): Promise<boolean> => {
    const routes = (await options.routes.listRoutes()).filter((r) => r.enabled);
    const nowMs = (options.now ?? (() => new Date()))().getTime();
    const results = await Promise.all(
      routes.map(async (route) => {
        const until = resting.get(route.routeId);
        if (until !== undefined && until > nowMs) return false;
        resting.delete(route.routeId);
        try {
          const result = await drainRoute(route.routeId, options);
          if (result.routeUnwell) resting.set(route.routeId, result.routeUnwell.retryAt.getTime());
          return result.fullPage && !result.routeUnwell;
        } catch (error) {
          options.onEvent?.(roundFailed(error, route.routeId));
          return false;
        }
      }),
    );
    return results.some(Boolean);
  };

  const running = (async () => {
    while (!stopped) {
      let more = false;
      try {
        more = await round();
      } catch (error) {
        options.onEvent?.(roundFailed(error));
      }
      if (stopped) break;
      if (!more)
        await sleep(options.intervalMs, undefined, { signal: controller.signal }).catch(() => undefined);
    }
  })();

  return async () => {
    stopped = true;
    controller.abort();
    await running;
  };
}

/** "3 days", "5 hours", "40 minutes": how long a statement kept failing, for its parked reason. */
function durationWords(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "an unknown time";
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} hours`;
  return `${Math.round(hours / 24)} days`;
}
