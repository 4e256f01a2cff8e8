import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createXapiAdminRoutes } from "../../../functions/admin/routes/xapi.js";
import type { OutboxAdminStore, OutboxEntry } from "../../../statements/ports.js";
import { body, ROUTE } from "./fakes.js";

/** An in-memory admin store: parked entries that replay moves back to pending. */
function adminStore(parked: OutboxEntry[]): OutboxAdminStore & { replayed: string[] } {
  const replayed: string[] = [];
  return {
    replayed,
    backlog: async () => ({ pending: 2, delivered: 40, parked: parked.length, capped: false }),
    listParked: async () => parked.filter((e) => !replayed.includes(e.statementId)),
    replayParked: async (_routeId, statementId) => {
      if (replayed.includes(statementId) || !parked.some((e) => e.statementId === statementId)) return false;
      replayed.push(statementId);
      return true;
    },
    replayAllParked: async () => {
      const left = parked.filter((e) => !replayed.includes(e.statementId));
      replayed.push(...left.map((e) => e.statementId));
      return left.length;
    },
  };
}

const PARKED: OutboxEntry = {
  statementId: "5b1d2c3e-0000-5000-8000-000000000001",
  routeId: ROUTE.routeId,
  body: body("5b1d2c3e-0000-5000-8000-000000000001"),
  status: "parked",
  attempts: 3,
  createdAt: "2025-01-01T00:00:00.000Z",
  nextAttemptAt: "2025-01-01T00:00:00.000Z",
  eventType: "evidence.mapped",
  parked: {
    reason: "the LRS rejected the statement as invalid",
    lrsStatus: 400,
    lrsBody: '{"warnings":["TypeWarning at statement.context.registration"]}',
    parkedAt: "2025-01-01T00:05:00.000Z",
  },
};

function mounted(outbox = adminStore([PARKED])) {
  const app = new Hono();
  app.route(
    "/admin/xapi",
    createXapiAdminRoutes({
      outbox,
      routes: {
        listRoutes: async () => [ROUTE],
        getRoute: async (id) => (id === ROUTE.routeId ? ROUTE : undefined),
      },
    }),
  );
  return { app, outbox };
}

describe("the xAPI admin sub-app mounted under /admin/xapi", () => {
  it("shows each route's backlog, delivered count and parked statements with the reason and the LRS's answer", async () => {
    const res = await mounted().app.request("/admin/xapi?s=tok");
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain("<td>2</td><td>40</td><td>1</td>");
    expect(html).toContain("the LRS rejected the statement as invalid");
    expect(html).toContain("HTTP 400");
    expect(html).toContain("TypeWarning at statement.context.registration");
    expect(html).toContain(`action="/admin/xapi/routes/route-1/parked/${PARKED.statementId}/replay"`);
    expect(html).toContain('action="/admin/xapi/routes/route-1/parked/replay"');
  });

  it("replays one parked statement from the form and comes back to the page with a notice", async () => {
    const { app, outbox } = mounted();
    const res = await app.request(`/admin/xapi/routes/route-1/parked/${PARKED.statementId}/replay`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "s=tok",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(
      `/admin/xapi?${new URLSearchParams({ notice: `Statement ${PARKED.statementId} sent back to the queue.`, s: "tok" })}`,
    );
    expect(outbox.replayed).toEqual([PARKED.statementId]);
  });

  it("replays every parked statement of a route over the JSON API", async () => {
    const res = await mounted().app.request("/admin/xapi/api/routes/route-1/parked/replay", {
      method: "POST",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ replayed: 1 });
  });

  it("answers problem+json for an unknown route", async () => {
    const res = await mounted().app.request("/admin/xapi/api/routes/nope/parked/replay", { method: "POST" });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toEqual({
      type: "https://hlta.tool/problems/xapi.route_not_found",
      title: "No such LRS route",
      status: 404,
      detail: "There is no LRS route with this id.",
    });
  });
});
