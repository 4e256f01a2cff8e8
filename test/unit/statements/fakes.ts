import { createXapiAdminRoutes } from "../../../functions/admin/routes/xapi.js";
import { sameStatement } from "../../../statements/equivalence.js";
import {
  type LrsAnswer,
  type LrsClient,
  LrsCredentials,
  type LrsRoute,
  type LrsRouteWithCredentials,
  type OutboxAdminStore,
  type OutboxEntry,
  type OutboxStore,
  type ParkedDetails,
  type RescheduledEntry,
} from "../../../statements/ports.js";

/** An in-memory outbox with the same state rules as the DynamoDB one. */
export class MemoryOutbox implements OutboxStore {
  readonly entries = new Map<string, OutboxEntry>();

  add(entry: OutboxEntry): void {
    this.entries.set(`${entry.statementId}#${entry.routeId}`, entry);
  }

  byStatus(status: OutboxEntry["status"]): OutboxEntry[] {
    return [...this.entries.values()].filter((e) => e.status === status);
  }

  async listDue(routeId: string, now: Date, limit: number): Promise<OutboxEntry[]> {
    return [...this.entries.values()]
      .filter(
        (e) =>
          e.routeId === routeId && e.status === "pending" && Date.parse(e.nextAttemptAt) <= now.getTime(),
      )
      .sort((a, b) => a.nextAttemptAt.localeCompare(b.nextAttemptAt))
      .slice(0, limit);
  }

  async markDelivered(entries: readonly OutboxEntry[], at: Date): Promise<void> {
    for (const e of entries) {
      this.add({ ...e, status: "delivered", attempts: e.attempts + 1, deliveredAt: at.toISOString() });
    }
  }

  async reschedule(retries: readonly RescheduledEntry[]) {
    for (const { entry, attempts, nextAttemptAt, lastError } of retries) {
      this.add({
        ...entry,
        status: "pending",
        attempts,
        nextAttemptAt: nextAttemptAt.toISOString(),
        lastError,
      });
    }
  }

  async park(entry: OutboxEntry, details: ParkedDetails & { attempts: number }) {
    const current = this.entries.get(`${entry.statementId}#${entry.routeId}`);
    if (current?.status !== "pending") return;
    const { attempts, ...parked } = details;
    this.add({ ...current, status: "parked", attempts, parked });
  }
}

export function pendingEntry(statementId: string, body: string, routeId = "route-1"): OutboxEntry {
  return {
    statementId,
    routeId,
    body,
    status: "pending",
    attempts: 0,
    createdAt: "2025-01-01T00:00:00.000Z",
    nextAttemptAt: "2025-01-01T00:00:00.000Z",
  };
}

/** A minimal statement body with a marker: `bad` makes the fake LRS reject it as invalid. */
export function body(id: string, marker = "ok"): string {
  return JSON.stringify({ id, verb: { id: `https://example.org/verbs/${marker}` } });
}

/**
 * A strict in-memory LRS speaking the LrsClient port: a batch with an invalid statement
 * (marker `bad`) gets 400; an id stored with another body gets 409; everything else is stored.
 * `conflictOnIdenticalResend`: a batch holding any id already stored gets 409 (some LRSs do).
 * `script` answers the next requests first (transient faults), then the rules apply.
 */
export class FakeLrs implements LrsClient {
  readonly stored = new Map<string, string>();
  readonly posts: string[][] = [];
  readonly gets: string[] = [];
  readonly script: LrsAnswer[] = [];
  conflictOnIdenticalResend = false;
  /** The route's key may write statements but not read them: every GET by id answers 403. */
  readForbidden = false;
  /** A 200 lists only the statements this request stored (SQL LRS, Ralph), not those already held. */
  listsOnlyInserted = false;

  async postStatements(bodies: readonly string[]): Promise<LrsAnswer> {
    this.posts.push([...bodies]);
    const scripted = this.script.shift();
    if (scripted) return scripted;
    const parsed = bodies.map((b) => JSON.parse(b) as { id: string; verb: { id: string } });
    if (parsed.some((s) => s.verb.id.endsWith("/bad"))) {
      return { kind: "response", status: 400, body: '{"message":"invalid statement"}' };
    }
    if (parsed.some((s, i) => this.stored.has(s.id) && this.stored.get(s.id) !== bodies[i])) {
      return { kind: "response", status: 409, body: '{"message":"conflict"}' };
    }
    if (this.conflictOnIdenticalResend && parsed.some((s) => this.stored.has(s.id))) {
      return { kind: "response", status: 409, body: '{"message":"already stored"}' };
    }
    const inserted = parsed.filter((s) => !this.stored.has(s.id));
    for (const [i, s] of parsed.entries()) this.stored.set(s.id, bodies[i] ?? "");
    const listed = this.listsOnlyInserted ? inserted : parsed;
    return { kind: "response", status: 200, body: JSON.stringify(listed.map((s) => s.id)) };
  }

  async getStatement(statementId: string): Promise<LrsAnswer> {
    this.gets.push(statementId);
    if (this.readForbidden) return { kind: "response", status: 403, body: '{"message":"write-only key"}' };
    const found = this.stored.get(statementId);
    if (found === undefined) return { kind: "response", status: 404, body: "" };
    // As an LRS returns it: with stored, authority and version added.
    const withLrsFields = { ...JSON.parse(found), stored: "2025-01-01T00:00:00.000Z", version: "1.0.3" };
    return { kind: "response", status: 200, body: JSON.stringify(withLrsFields) };
  }

  holds(statementId: string, sentBody: string): boolean {
    const found = this.stored.get(statementId);
    return found !== undefined && sameStatement(sentBody, JSON.parse(found));
  }
}

export const ROUTE: LrsRoute = {
  routeId: "route-1",
  scope: { issuer: "https://moodle.school.example", clientId: "client-1" },
  name: "Provider LRS",
  endpoint: "https://lrs.provider.example/xapi/",
  enabled: true,
  createdAt: "2025-01-01T00:00:00.000Z",
};

export function routeStore(routes: LrsRoute[] = [ROUTE]) {
  return {
    listRoutes: async () => routes,
    getRouteWithCredentials: async (routeId: string): Promise<LrsRouteWithCredentials | undefined> => {
      const route = routes.find((r) => r.routeId === routeId);
      return route ? { ...route, credentials: new LrsCredentials("key", "secret") } : undefined;
    },
  };
}

/** The xAPI delivery page as the web app mounts it, over ROUTE and an empty outbox (`outbox` overrides parts). */
export function xapiAdminPage(outbox: Partial<OutboxAdminStore> = {}) {
  const app = createXapiAdminRoutes({
    outbox: {
      backlog: async () => ({ pending: 0, delivered: 0, parked: 0, capped: false }),
      listParked: async () => [],
      replayParked: async () => false,
      replayAllParked: async () => 0,
      ...outbox,
    },
    routes: { listRoutes: async () => [ROUTE], getRoute: async () => ROUTE },
  });
  return { path: "xapi", title: "xAPI delivery", app };
}
