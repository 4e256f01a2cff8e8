import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningLrsDouble, startLrsDouble } from "../../../dev/lrs-double/index.js";
import { buildStatement } from "../../../statements/builders.js";
import { createLrsClient } from "../../../statements/lrs-client.js";
import { LrsCredentials } from "../../../statements/ports.js";
import { EVENTS, eventOfType, SETTINGS } from "../../unit/statements/fixtures.js";

let lrs: RunningLrsDouble;
beforeAll(async () => {
  lrs = await startLrsDouble({ seed: 7 });
});
afterAll(async () => {
  await lrs?.stop();
});
beforeEach(() => {
  lrs.faults.reset(7);
  lrs.statements.clear();
});

const client = (timeoutMs = 2_000, credentials = new LrsCredentials("hlta-dev", "hlta-dev-secret")) =>
  createLrsClient({ endpoint: lrs.endpoint, credentials, timeoutMs });

function authHeaders(version = "1.0.3"): Record<string, string> {
  return {
    Authorization: `Basic ${Buffer.from("hlta-dev:hlta-dev-secret").toString("base64")}`,
    "X-Experience-API-Version": version,
    "Content-Type": "application/json",
  };
}

describe("the LRS double as a strict LRS", () => {
  it("stores a batch of valid statements and answers their ids", async () => {
    const built = EVENTS.map((e) => buildStatement(e, SETTINGS));
    const answer = await client().postStatements(built.map((b) => b.json));
    expect(answer).toMatchObject({ kind: "response", status: 200 });
    expect(answer.kind === "response" && JSON.parse(answer.body)).toEqual(built.map((b) => b.id));
    expect(lrs.statements.count).toBe(EVENTS.length);
  });

  it("rejects the whole batch with 400 when one statement is invalid, naming the problem", async () => {
    const good = buildStatement(eventOfType("launched"), SETTINGS).json;
    const bad = JSON.parse(buildStatement(eventOfType("standard.mastered"), SETTINGS).json);
    bad.actor.mbox = "mailto:two@identifiers.example";
    const answer = await client().postStatements([good, JSON.stringify(bad)]);
    expect(answer).toMatchObject({ kind: "response", status: 400 });
    expect(answer.kind === "response" && JSON.parse(answer.body).warnings).toEqual([
      { index: 1, problems: ["IfiCountWarning at statement.actor"] },
    ]);
    expect(lrs.statements.count).toBe(0);
  });

  it("accepts an identical resend without storing twice, and answers 409 to a different body", async () => {
    const built = buildStatement(eventOfType("launched"), SETTINGS);
    await client().postStatements([built.json]);
    expect(await client().postStatements([built.json])).toMatchObject({ status: 200 });
    const changed = JSON.parse(built.json);
    changed.verb.display.en = "opened";
    expect(await client().postStatements([JSON.stringify(changed)])).toMatchObject({ status: 409 });
    expect(lrs.statements.count).toBe(1);
    expect(lrs.statements.bodiesReceived(built.id)).toBe(2);
  });

  it("answers a statement by id with the LRS's own properties added", async () => {
    const built = buildStatement(eventOfType("launched"), SETTINGS);
    await client().postStatements([built.json]);
    const answer = await client().getStatement(built.id);
    expect(answer).toMatchObject({ kind: "response", status: 200 });
    const stored = answer.kind === "response" ? JSON.parse(answer.body) : undefined;
    expect(stored).toMatchObject({ ...JSON.parse(built.json), version: "1.0.3" });
    expect(typeof stored.stored).toBe("string");
    expect(await client().getStatement("00000000-0000-4000-8000-000000000000")).toMatchObject({
      status: 404,
    });
  });

  it("takes a single statement by PUT and answers 204", async () => {
    const built = buildStatement(eventOfType("launched"), SETTINGS);
    const res = await fetch(`${lrs.endpoint}statements?statementId=${built.id}`, {
      method: "PUT",
      headers: authHeaders(),
      body: built.json,
    });
    expect(res.status).toBe(204);
    expect(lrs.statements.get(built.id)?.id).toBe(built.id);
  });

  it("requires Basic credentials and a 1.0.x version header", async () => {
    const wrong = client(2_000, new LrsCredentials("hlta-dev", "nope"));
    expect(await wrong.postStatements(["{}"])).toMatchObject({ status: 401 });
    const res = await fetch(`${lrs.endpoint}statements`, {
      method: "POST",
      headers: authHeaders("1.1.0"),
      body: "[]",
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: "X-Experience-API-Version 1.1.0 not supported" });
  });
});

describe("fault injection", () => {
  it("fails the asked fraction of requests, reproducibly for a seed", async () => {
    const run = async () => {
      lrs.faults.reset(42);
      lrs.faults.set({ failRate: 0.3, failStatuses: [429, 503] });
      const statuses: number[] = [];
      for (let i = 0; i < 100; i++) {
        const answer = await client().getStatement("00000000-0000-4000-8000-000000000000");
        statuses.push(answer.kind === "response" ? answer.status : 0);
      }
      return statuses;
    };
    const first = await run();
    const failures = first.filter((s) => s === 429 || s === 503).length;
    expect(failures).toBeGreaterThan(15);
    expect(failures).toBeLessThan(45);
    expect(await run()).toEqual(first);
  });

  it("closes connections while down, and answers again afterwards", async () => {
    lrs.faults.downFor(300);
    const answer = await client().postStatements([buildStatement(eventOfType("launched"), SETTINGS).json]);
    expect(answer).toMatchObject({ kind: "network", reason: "reset" });
    await new Promise((r) => setTimeout(r, 350));
    expect(
      await client().postStatements([buildStatement(eventOfType("launched"), SETTINGS).json]),
    ).toMatchObject({
      status: 200,
    });
  });

  it("hangs past the client's timeout, having stored the statements when asked to", async () => {
    lrs.faults.set({ timeoutRate: 1, hangMs: 5_000, storeBeforeTimeout: true });
    const built = buildStatement(eventOfType("launched"), SETTINGS);
    expect(await client(100).postStatements([built.json])).toMatchObject({
      kind: "network",
      reason: "timeout",
    });
    expect(lrs.statements.get(built.id)).toBeDefined();
  });

  it("is controllable over HTTP", async () => {
    const set = await fetch(`${lrs.url}/_faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ conflictRate: 1 }),
    });
    expect(set.status).toBe(200);
    expect(
      await client().postStatements([buildStatement(eventOfType("launched"), SETTINGS).json]),
    ).toMatchObject({
      status: 409,
    });
    const invalid = await fetch(`${lrs.url}/_faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ failRate: 2 }),
    });
    expect(invalid.status).toBe(400);
    await fetch(`${lrs.url}/_faults/reset`, { method: "POST" });
    expect(lrs.faults.settings.conflictRate).toBe(0);
  });
});

describe("the statements page", () => {
  it("lists received statements newest first and refreshes itself", async () => {
    const [a, b] = [eventOfType("launched"), eventOfType("standard.mastered")].map((e) =>
      buildStatement(e, SETTINGS),
    );
    if (!a || !b) throw new Error("fixture");
    await client().postStatements([a.json]);
    await new Promise((r) => setTimeout(r, 5));
    await client().postStatements([b.json]);
    const html = await (await fetch(`${lrs.url}/`)).text();
    expect(html).toContain('<meta http-equiv="refresh" content="2"/>');
    expect(html.indexOf(b.id)).toBeGreaterThan(-1);
    expect(html.indexOf(b.id)).toBeLessThan(html.indexOf(a.id));
    expect(html).toContain("mastered");
  });
});
