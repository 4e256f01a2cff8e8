import { randomUUID } from "node:crypto";
import type { HttpBindings } from "@hono/node-server";
import { type Context, Hono } from "hono";
import * as z from "zod";
import { type FaultController, FaultSettingsSchema } from "./faults.js";
import { canonicalJson, type StatementStore, type StoredStatement } from "./store.js";
import { describeWarnings, validateStatement } from "./validation.js";

/**
 * The LRS test double: the statements resource of xAPI 1.0.3 (§7.2), strict like a real LRS:
 * - Basic auth and `X-Experience-API-Version: 1.0.x` on every xAPI request;
 * - each statement validated with Learning Locker's validator; one invalid statement rejects
 *   the whole batch with 400, nothing stored;
 * - an id already stored with a different statement rejects the batch with 409; an identical
 *   resend is accepted without storing twice (200 / 204);
 * - bodies over `maxBodyBytes` get 413.
 * Plus fault injection (faults.ts) and a page listing what arrived.
 */

export interface LrsDoubleOptions {
  store: StatementStore;
  faults: FaultController;
  credentials: { username: string; password: string } | null;
  maxBodyBytes: number;
  now?: () => number;
}

type Env = { Bindings: HttpBindings };

const AUTHORITY = {
  objectType: "Agent",
  account: { homePage: "http://127.0.0.1/lrs-double", name: "lrs-double" },
};

function problem(
  c: Context,
  status: 400 | 401 | 404 | 409 | 413,
  message: string,
  extra: Record<string, unknown> = {},
) {
  return c.json({ error: true, status, message, ...extra }, status);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hang(c: Context<Env>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = c.env?.incoming?.socket;
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      socket?.off("close", done);
      resolve();
    }
    socket?.once("close", done);
  });
}

function asStored(s: StoredStatement): Record<string, unknown> {
  return { ...s.statement, stored: s.stored, authority: AUTHORITY, version: "1.0.3" };
}

export function createLrsDoubleApp(options: LrsDoubleOptions) {
  const { store, faults } = options;
  const now = options.now ?? Date.now;
  const app = new Hono<Env>();

  // --- the xAPI resource --------------------------------------------------------------
  app.use("/xapi/*", async (c, next) => {
    const decision = faults.decide();
    if (decision.kind === "down") {
      // Down: close the connection without an answer, as a crashed LRS or a dead proxy would.
      c.env?.incoming?.socket?.destroy();
      return new Response(null, { status: 503 });
    }
    const latency = faults.settings.latencyMs;
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    if (options.credentials) {
      const expected = `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString("base64")}`;
      if (c.req.header("authorization") !== expected) {
        c.header("WWW-Authenticate", 'Basic realm="lrs-double"');
        return problem(c, 401, "Unauthorised: wrong or missing Basic credentials");
      }
    }
    const version = c.req.header("x-experience-api-version");
    if (!version) return problem(c, 400, "X-Experience-API-Version header missing");
    if (!/^1\.0(\.[0-3])?$/.test(version))
      return problem(c, 400, `X-Experience-API-Version ${version} not supported`);
    c.header("X-Experience-API-Version", "1.0.3");
    if (decision.kind === "fail") {
      const retryAfter = faults.settings.retryAfterSeconds;
      if (decision.status === 429 && retryAfter !== undefined) c.header("Retry-After", String(retryAfter));
      return c.json({ error: true, message: `injected fault ${decision.status}` }, decision.status as 500);
    }
    if (decision.kind === "conflict") return problem(c, 409, "injected conflict");
    if (decision.kind === "timeout") {
      if (faults.settings.storeBeforeTimeout) await next();
      await hang(c, faults.settings.hangMs);
      return faults.settings.storeBeforeTimeout ? c.res : c.json({ error: true, message: "too late" }, 504);
    }
    await next();
    return undefined;
  });

  app.get("/xapi/about", (c) => c.json({ version: ["1.0.3"] }));

  /** Validate and store a batch atomically; returns the response to give. */
  function receive(c: Context<Env>, raw: string, single: boolean, statementIdParam?: string) {
    if (Buffer.byteLength(raw, "utf8") > options.maxBodyBytes) {
      return problem(c, 413, `Request body larger than ${options.maxBodyBytes} bytes`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return problem(c, 400, "Body is not JSON");
    }
    const list = single ? [parsed] : Array.isArray(parsed) ? parsed : [parsed];
    if (list.length === 0) return problem(c, 400, "No statements");
    const prepared: { id: string; statement: Record<string, unknown>; canonical: string }[] = [];
    const warnings: { index: number; problems: string[] }[] = [];
    list.forEach((item, index) => {
      if (!isObject(item)) {
        warnings.push({ index, problems: ["not an object"] });
        return;
      }
      const statement = { ...item };
      if (statementIdParam !== undefined) {
        if (statement.id !== undefined && statement.id !== statementIdParam) {
          warnings.push({ index, problems: ["id differs from the statementId parameter"] });
          return;
        }
        statement.id = statementIdParam;
      }
      if (statement.id === undefined) statement.id = randomUUID();
      const problems = describeWarnings(validateStatement(statement));
      if (problems.length > 0) warnings.push({ index, problems });
      const id = String(statement.id);
      const canonical = canonicalJson(statement);
      store.noteReceived(id, canonical);
      prepared.push({ id, statement, canonical });
    });
    if (warnings.length > 0) {
      return problem(c, 400, "Invalid statement(s): the batch was rejected", { warnings });
    }
    const seen = new Map<string, string>();
    for (const p of prepared) {
      const key = p.id.toLowerCase();
      if (seen.has(key) && seen.get(key) !== p.canonical) {
        return problem(c, 400, `Two different statements with id ${p.id} in one request`);
      }
      seen.set(key, p.canonical);
    }
    const conflicts = prepared.filter((p) => {
      const existing = store.get(p.id);
      return existing !== undefined && existing.canonical !== p.canonical;
    });
    if (conflicts.length > 0) {
      return problem(c, 409, "Conflict: a statement with this id exists with a different body", {
        ids: conflicts.map((p) => p.id),
      });
    }
    const fresh = prepared.filter(
      (p, i) => store.get(p.id) === undefined && prepared.findIndex((q) => q.id === p.id) === i,
    );
    if (fresh.length < prepared.length && faults.settings.conflictOnIdenticalResend) {
      return problem(c, 409, "Conflict: statement(s) already stored");
    }
    const at = now();
    for (const p of fresh) store.add(p.statement, p.id, p.canonical, at);
    return single
      ? c.body(null, 204)
      : c.json(
          prepared.map((p) => p.id),
          200,
        );
  }

  app.post("/xapi/statements", async (c) => receive(c, await c.req.text(), false));

  app.put("/xapi/statements", async (c) => {
    const statementId = c.req.query("statementId");
    if (!statementId) return problem(c, 400, "PUT needs a statementId parameter");
    return receive(c, await c.req.text(), true, statementId);
  });

  app.get("/xapi/statements", (c) => {
    const statementId = c.req.query("statementId");
    if (statementId) {
      const found = store.get(statementId);
      return found ? c.json(asStored(found)) : problem(c, 404, `No statement with id ${statementId}`);
    }
    const limit = Math.min(Math.max(Number(c.req.query("limit") ?? 100) || 100, 1), 1000);
    return c.json({ statements: store.newestFirst(limit).map(asStored), more: "" });
  });

  // --- control API (not xAPI: no auth, no faults; loopback only) -------------------------
  app.get("/_faults", (c) =>
    c.json({ settings: faults.settings, counters: faults.counters, down: faults.isDown() }),
  );
  app.post("/_faults", async (c) => {
    const parsed = FaultSettingsSchema.partial().safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return problem(c, 400, "Invalid fault settings", { issues: parsed.error.issues });
    const clean = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
    return c.json({ settings: faults.set(clean) });
  });
  app.post("/_faults/down", (c) => {
    const ms = z.coerce
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .safeParse(c.req.query("ms") ?? "10000");
    if (!ms.success) return problem(c, 400, "ms must be 0..3600000");
    faults.downFor(ms.data);
    return c.json({ downUntil: faults.settings.downUntil });
  });
  app.post("/_faults/reset", (c) => {
    faults.reset();
    return c.json({ settings: faults.settings });
  });
  app.delete("/_statements", (c) => {
    store.clear();
    return c.body(null, 204);
  });

  // --- the page a newcomer watches ---------------------------------------------------------
  app.get("/", (c) => c.html(<StatementsPage store={store} faults={faults} />));

  return app;
}

function actorLabel(actor: unknown): string {
  if (!isObject(actor)) return "?";
  const account = actor.account;
  if (isObject(account)) return `${String(account.name)} @ ${String(account.homePage)}`;
  if (typeof actor.mbox === "string") return actor.mbox;
  if (typeof actor.mbox_sha1sum === "string") return `sha1:${actor.mbox_sha1sum.slice(0, 12)}…`;
  return "?";
}

function verbLabel(verb: unknown): string {
  if (!isObject(verb)) return "?";
  const display = verb.display;
  if (isObject(display) && typeof display.en === "string") return display.en;
  return String(verb.id);
}

function objectLabel(object: unknown): string {
  if (!isObject(object)) return "?";
  const def = object.definition;
  const name = isObject(def) && isObject(def.name) ? Object.values(def.name)[0] : undefined;
  return typeof name === "string" ? `${name} (${String(object.id)})` : String(object.id);
}

function StatementsPage(props: { store: StatementStore; faults: FaultController }) {
  const latest = props.store.newestFirst(200);
  const s = props.faults.settings;
  return (
    <html lang="en-GB">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="refresh" content="2" />
        <title>LRS double: {String(props.store.count)} statements</title>
        <style>{`body{font:15px/1.4 system-ui,sans-serif;margin:1rem 2rem;color:#1b1b1b}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ccc;vertical-align:top}
code{font-size:.8rem}.muted{color:#555}`}</style>
      </head>
      <body>
        <h1>LRS double</h1>
        <p class="muted">
          A stand-in Learning Record Store for development: it validates each statement like a strict LRS and
          keeps them in memory. This page refreshes every 2 seconds; newest first.
        </p>
        <p>
          <strong>{props.store.count}</strong> statements stored · faults: fail {s.failRate}, time out{" "}
          {s.timeoutRate}, conflict {s.conflictRate}, {props.faults.isDown() ? "DOWN" : "up"}
        </p>
        <table>
          <thead>
            <tr>
              <th>stored</th>
              <th>actor</th>
              <th>verb</th>
              <th>object</th>
              <th>id</th>
            </tr>
          </thead>
          <tbody>
            {latest.map((row) => (
              <tr>
                <td>{row.stored}</td>
                <td>{actorLabel(row.statement.actor)}</td>
                <td>{verbLabel(row.statement.verb)}</td>
                <td>{objectLabel(row.statement.object)}</td>
                <td>
                  <code>{row.id}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </body>
    </html>
  );
}
