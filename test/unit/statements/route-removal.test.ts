import { describe, expect, it } from "vitest";
import {
  LrsCredentials,
  type LrsRoute,
  type LrsRouteInput,
  type LrsRouteWithCredentials,
  type RouteBacklog,
} from "../../../statements/ports.js";
import { removeRouteWhenQuiet } from "../../../statements/route-removal.js";
import { ROUTE } from "./fakes.js";

const EMPTY: RouteBacklog = { pending: 0, delivered: 3, parked: 0, capped: false };

/** One route in memory, and an outbox whose backlog a test sets as the wait goes on. */
function world(route: LrsRoute = ROUTE) {
  let current: LrsRouteWithCredentials | undefined = {
    ...route,
    credentials: new LrsCredentials("key", "secret"),
  };
  const saved: LrsRouteInput[] = [];
  let backlog = EMPTY;
  const routes = {
    getRouteWithCredentials: async (id: string) => (current?.routeId === id ? current : undefined),
    saveRoute: async (input: LrsRouteInput) => {
      saved.push(input);
      if (!current) throw new Error("no route");
      current = { ...current, enabled: input.enabled ?? true };
      return current;
    },
    removeRoute: async (id: string) => {
      const had = current?.routeId === id;
      current = undefined;
      return had;
    },
  };
  return {
    routes,
    outbox: { backlog: async () => backlog },
    saved,
    setBacklog: (b: RouteBacklog) => {
      backlog = b;
    },
    current: () => current,
  };
}

describe("removing an LRS route", () => {
  it("turns it off, waits for running instances to stop using it, then removes it", async () => {
    const w = world();
    const waited: number[] = [];
    const result = await removeRouteWhenQuiet(ROUTE.routeId, {
      ...w,
      quietMs: 3_000,
      sleep: async (ms) => {
        waited.push(ms);
        expect(w.current()?.enabled).toBe(false);
      },
    });
    expect(result).toEqual({ kind: "removed" });
    expect(waited).toEqual([1_000, 1_000, 1_000]);
    expect(w.saved.map((s) => [s.enabled, s.username, s.password])).toEqual([[false, "key", "secret"]]);
    expect(w.current()).toBeUndefined();
  });

  it("refuses at once when statements wait or are parked on it, changing nothing", async () => {
    const w = world();
    w.setBacklog({ ...EMPTY, parked: 2 });
    const result = await removeRouteWhenQuiet(ROUTE.routeId, { ...w, quietMs: 3_000, sleep: async () => {} });
    expect(result).toMatchObject({ kind: "backlog", arrivedWhileRemoving: false });
    expect(w.saved).toEqual([]);
    expect(w.current()?.enabled).toBe(true);
  });

  it("keeps the route, on again, when statements arrived while it was being removed", async () => {
    const w = world();
    const result = await removeRouteWhenQuiet(ROUTE.routeId, {
      ...w,
      quietMs: 2_000,
      sleep: async () => w.setBacklog({ ...EMPTY, pending: 1 }),
    });
    expect(result).toMatchObject({ kind: "backlog", arrivedWhileRemoving: true, backlog: { pending: 1 } });
    expect(w.current()?.enabled).toBe(true);
  });

  it("turns a route back on as it was when the wait is stopped (Ctrl+C), and a route that was off stays off", async () => {
    const on = world();
    const stop = new AbortController();
    const stopped = removeRouteWhenQuiet(ROUTE.routeId, {
      ...on,
      quietMs: 5_000,
      signal: stop.signal,
      onWait: () => stop.abort(new Error("stopped")),
    });
    await expect(stopped).rejects.toThrow("stopped");
    expect(on.current()?.enabled).toBe(true);

    const off = world({ ...ROUTE, enabled: false });
    expect(
      await removeRouteWhenQuiet(ROUTE.routeId, { ...off, quietMs: 1_000, sleep: async () => {} }),
    ).toEqual({
      kind: "removed",
    });
    expect(off.saved).toEqual([]);
  });

  it.each(["the last look at its backlog", "the removal itself"])(
    "turns the route back on when %s fails, so its tenant's statements are not dropped",
    async (failing) => {
      const w = world();
      let reads = 0;
      const outbox = {
        backlog: async () => {
          reads++;
          if (failing === "the last look at its backlog" && reads === 2) throw new Error("throttled");
          return EMPTY;
        },
      };
      const routes = {
        ...w.routes,
        removeRoute: async () => {
          throw new Error("throttled");
        },
      };
      await expect(
        removeRouteWhenQuiet(ROUTE.routeId, {
          routes: failing === "the removal itself" ? routes : w.routes,
          outbox,
          quietMs: 1_000,
          sleep: async () => {},
        }),
      ).rejects.toThrow("throttled");
      expect(w.current()?.enabled).toBe(true);
    },
  );

  it("says there is no such route", async () => {
    expect(await removeRouteWhenQuiet("nope", { ...world(), sleep: async () => {} })).toEqual({
      kind: "not-found",
    });
  });
});
