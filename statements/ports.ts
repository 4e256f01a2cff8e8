import type { TenantRef } from "../domain/tenancy.js";
import type { ActorIdentifierType } from "./builders.js";

/**
 * Ports of the xAPI delivery: the durable outbox, the per-tenant LRS routes and the LRS
 * itself. Implemented in adapters/dynamo (outbox, routes) and statements/lrs-client.ts (LRS).
 */

export type OutboxStatus = "pending" | "delivered" | "parked";

/** Why a statement stopped being retried, with the LRS's own answer when there was one. */
export interface ParkedDetails {
  reason: string;
  lrsStatus?: number;
  /** The start of the LRS's response body (never the whole of a large page). */
  lrsBody?: string;
  parkedAt: string;
}

/** One statement on its way to one LRS route. */
export interface OutboxEntry {
  statementId: string;
  routeId: string;
  /** The exact JSON built when the event was recorded; sent as is, every time. */
  body: string;
  status: OutboxStatus;
  attempts: number;
  createdAt: string;
  nextAttemptAt: string;
  /** When an administrator last sent it back to pending: its attempts count from then. */
  replayedAt?: string;
  eventType?: string;
  lastError?: string;
  deliveredAt?: string;
  parked?: ParkedDetails;
}

export interface RescheduledEntry {
  entry: OutboxEntry;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string;
}

/** What the forwarder needs from the outbox. */
export interface OutboxStore {
  /** Pending entries of a route whose next attempt is due, oldest first. */
  listDue(routeId: string, now: Date, limit: number): Promise<OutboxEntry[]>;
  markDelivered(entries: readonly OutboxEntry[], at: Date): Promise<void>;
  /** Record failed attempts: attempts, when to try next, and why it failed. */
  reschedule(retries: readonly RescheduledEntry[]): Promise<void>;
  park(entry: OutboxEntry, details: ParkedDetails & { attempts: number }): Promise<void>;
}

export interface RouteBacklog {
  pending: number;
  delivered: number;
  parked: number;
  /** True when a count stopped at the page limit (the number shown is a lower bound). */
  capped: boolean;
  /**
   * Why waiting statements are waiting: the last failed attempt of the next one due that has
   * failed (a route whose LRS refuses its credentials would otherwise show only a count for days).
   */
  lastFailure?: { error: string; attempts: number; nextAttemptAt: string };
}

/** What the admin page needs from the outbox. */
export interface OutboxAdminStore {
  backlog(routeId: string): Promise<RouteBacklog>;
  listParked(routeId: string, limit: number): Promise<OutboxEntry[]>;
  /** Parked → pending, due now. Returns false when the entry is not (or no longer) parked. */
  replayParked(routeId: string, statementId: string, now: Date): Promise<boolean>;
  /** Replay every parked entry of a route; returns how many went back to pending. */
  replayAllParked(routeId: string, now: Date): Promise<number>;
}

/** Where a route applies: a whole platform registration, or one deployment (which overrides it). */
export interface LrsRouteScope {
  issuer: string;
  clientId: string;
  deploymentId?: string;
}

export interface LrsRoute {
  routeId: string;
  scope: LrsRouteScope;
  name: string;
  /** The LRS's xAPI endpoint, e.g. https://lrs.example/xapi/ (statements are under it). */
  endpoint: string;
  enabled: boolean;
  createdAt: string;
}

/**
 * Basic-auth key and secret of an LRS, decrypted only in memory. Serialising or inspecting it
 * shows `[redacted]`, so a stray `console.log(route)` or JSON log line cannot leak it.
 */
export class LrsCredentials {
  readonly #username: string;
  readonly #password: string;
  constructor(username: string, password: string) {
    this.#username = username;
    this.#password = password;
  }
  get username(): string {
    return this.#username;
  }
  /** The value of the Authorization header (RFC 7617). */
  authorizationHeader(): string {
    return `Basic ${Buffer.from(`${this.#username}:${this.#password}`, "utf8").toString("base64")}`;
  }
  /** For re-encryption only (rotation); never log the result. */
  reveal(): { username: string; password: string } {
    return { username: this.#username, password: this.#password };
  }
  toJSON(): string {
    return "[redacted]";
  }
  toString(): string {
    return "[redacted]";
  }
  // util.inspect.custom, by its registered name: importing node:util as ESM builds its whole
  // export facade (parseArgs, MIMEType… loaded), 16 M instructions at every cold start.
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "LrsCredentials [redacted]";
  }
}

export interface LrsRouteWithCredentials extends LrsRoute {
  credentials: LrsCredentials;
}

export interface LrsRouteInput {
  routeId?: string;
  scope: LrsRouteScope;
  name: string;
  endpoint: string;
  username: string;
  password: string;
  enabled?: boolean;
}

/** The xAPI settings of one tenant, as resolved: deployment settings override platform ones. */
export interface TenantXapiTarget {
  actorIdentifier: ActorIdentifierType;
  /** Enabled routes the tenant's statements go to; empty when the tenant has no LRS. */
  routes: LrsRoute[];
}

export interface LrsRouteStore {
  listRoutes(): Promise<LrsRoute[]>;
  getRoute(routeId: string): Promise<LrsRoute | undefined>;
  getRouteWithCredentials(routeId: string): Promise<LrsRouteWithCredentials | undefined>;
  saveRoute(input: LrsRouteInput): Promise<LrsRoute>;
  /** Removes the route; false when there was none with this id. */
  removeRoute(routeId: string): Promise<boolean>;
  saveTenantSettings(scope: LrsRouteScope, settings: { actorIdentifier: ActorIdentifierType }): Promise<void>;
  /** Routes and actor identifier for a tenant: deployment scope if it has any, else platform scope. */
  resolveTenant(tenant: TenantRef): Promise<TenantXapiTarget>;
}

/** What an LRS answered, or why it did not. */
export type LrsAnswer =
  | { kind: "response"; status: number; body: string; retryAfterMs?: number }
  | { kind: "network"; reason: "timeout" | "refused" | "reset" | "other"; message: string };

export interface LrsClient {
  /** POST the stored JSON bodies as one array, byte for byte. */
  postStatements(bodies: readonly string[]): Promise<LrsAnswer>;
  /** GET one statement by id (format=exact). */
  getStatement(statementId: string): Promise<LrsAnswer>;
}
