import type { LrsRouteStore, OutboxAdminStore, RouteBacklog } from "./ports.js";

/**
 * How long an instance of the web function keeps a tenant's LRS routes (they are needed on every
 * launch and change rarely): a route turned off is still used by it for up to this long.
 */
export const TENANT_TARGETS_TTL_MS = 60_000;

/**
 * How long a removal waits, with the route turned off, for running instances of the web
 * function to stop queueing statements to it: they keep a tenant's routes for
 * `TENANT_TARGETS_TTL_MS`, plus a margin for a launch in flight.
 */
export const REMOVAL_QUIET_MS = TENANT_TARGETS_TTL_MS + 5_000;

export type RouteRemoval =
  | { kind: "removed" }
  | { kind: "not-found" }
  /** Statements wait or are parked on the route: removed, they would be left where no page shows them. */
  | { kind: "backlog"; backlog: RouteBacklog; arrivedWhileRemoving: boolean };

export interface RouteRemovalDeps {
  routes: Pick<LrsRouteStore, "getRouteWithCredentials" | "saveRoute" | "removeRoute">;
  outbox: Pick<OutboxAdminStore, "backlog">;
  /** Default REMOVAL_QUIET_MS. */
  quietMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called about every second of the wait with the time left, for a progress line. */
  onWait?: (leftMs: number) => void;
  /** Aborting (Ctrl+C) turns the route back on as it was, then rejects. */
  signal?: AbortSignal;
}

const hasBacklog = (b: RouteBacklog) => b.pending > 0 || b.parked > 0;

/**
 * Remove an LRS route without leaving statements behind. A route with statements waiting or
 * parked is refused. Otherwise it is turned off first, so new statements stop being queued to
 * it once running instances have dropped their copy of the tenant's routes; then, if none
 * arrived meanwhile, removed. If some did, it is turned on again as it was, so they go, and the
 * removal is refused, saying so.
 */
export async function removeRouteWhenQuiet(routeId: string, deps: RouteRemovalDeps): Promise<RouteRemoval> {
  const route = await deps.routes.getRouteWithCredentials(routeId);
  if (!route) return { kind: "not-found" };
  const before = await deps.outbox.backlog(routeId);
  if (hasBacklog(before)) return { kind: "backlog", backlog: before, arrivedWhileRemoving: false };
  const { username, password } = route.credentials.reveal();
  const saveEnabled = (enabled: boolean) =>
    deps.routes.saveRoute({
      routeId,
      scope: route.scope,
      name: route.name,
      endpoint: route.endpoint,
      username,
      password,
      enabled,
    });
  if (route.enabled) await saveEnabled(false);
  const sleep = deps.sleep ?? defaultSleep;
  // From here until the route is gone, any way out turns it back on as it was: a route left
  // off would drop its tenant's statements (launches build none for it) with nothing to say so.
  try {
    const quietMs = deps.quietMs ?? REMOVAL_QUIET_MS;
    for (let left = quietMs; left > 0; left -= 1_000) {
      deps.onWait?.(left);
      await sleep(Math.min(1_000, left), deps.signal);
    }
    const after = await deps.outbox.backlog(routeId);
    if (hasBacklog(after)) {
      if (route.enabled) await saveEnabled(true);
      return { kind: "backlog", backlog: after, arrivedWhileRemoving: true };
    }
    return (await deps.routes.removeRoute(routeId)) ? { kind: "removed" } : { kind: "not-found" };
  } catch (error) {
    if (route.enabled) await saveEnabled(true);
    throw error;
  }
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
