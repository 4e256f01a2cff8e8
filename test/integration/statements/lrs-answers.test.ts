import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deliverBatch } from "../../../statements/forwarder.js";
import { createLrsClient } from "../../../statements/lrs-client.js";
import { LrsCredentials } from "../../../statements/ports.js";
import { json, type Site, site } from "../../support/loopback-site.js";
import { body, pendingEntry } from "../../unit/statements/fakes.js";

// What an LRS answers to a batch, over real HTTP on loopback: only an answer that confirms the
// statements delivers them; a redirect sends them nowhere else. From an adversarial pass over
// the tool's outbound calls (2026-11-24).

let lrs: Site;
let elsewhere: Site;
beforeAll(async () => {
  [lrs, elsewhere] = await Promise.all([site(), site()]);
});
afterAll(async () => {
  await Promise.all([lrs?.stop(), elsewhere?.stop()]);
});
beforeEach(() => {
  lrs.seen.length = 0;
  elsewhere.seen.length = 0;
  elsewhere.handle = (_req, _body, res) => json(res, 200, []);
});

const ids = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"];
const batch = () => ids.map((id) => pendingEntry(id, body(id, "ok")));
const lrsClient = () =>
  createLrsClient({
    endpoint: `${lrs.url}/xapi/`,
    credentials: new LrsCredentials("key", "secret"),
    timeoutMs: 2_000,
  });
const kinds = async () => (await deliverBatch(batch(), lrsClient())).map((o) => o.kind);
const errors = async () =>
  (await deliverBatch(batch(), lrsClient())).map((o) => (o.kind === "retry" ? o.error : o.kind));

describe("an LRS's answer to a batch", () => {
  it("delivers on 200 with the ids of the batch (in any case), and on 204", async () => {
    lrs.handle = (_req, _body, res) =>
      json(
        res,
        200,
        ids.map((id) => id.toUpperCase()),
      );
    expect(await kinds()).toEqual(["delivered", "delivered"]);
    lrs.handle = (_req, _body, res) => res.writeHead(204).end();
    expect(await kinds()).toEqual(["delivered", "delivered"]);
  });

  it("keeps the statements for later on a 200 that is not a list of ids", async () => {
    for (const answer of ["<html>Please sign in</html>", null, { ok: true }]) {
      lrs.handle = (_req, _body, res) =>
        typeof answer === "string"
          ? res.writeHead(200, { "content-type": "text/html" }).end(answer)
          : json(res, 200, answer);
      expect(await kinds()).toEqual(["retry", "retry"]);
    }
  });

  it("confirms statements a 200 leaves out by asking for each (an LRS lists only what it inserted)", async () => {
    const [held, fresh] = ids as [string, string];
    // SQL LRS and Ralph: a batch resent after a lost answer lists only the statement it had not got.
    lrs.handle = (req, _body, res) => {
      if (req.method === "POST") return json(res, 200, [fresh]);
      const asked = new URL(req.url ?? "", lrs.url).searchParams.get("statementId");
      return asked === held
        ? json(res, 200, JSON.parse(body(held, "ok")))
        : json(res, 404, { error: "not found" });
    };
    expect(await kinds()).toEqual(["delivered", "delivered"]);
    expect(lrs.seen.filter((r) => r.method === "GET")).toHaveLength(1);

    // Neither listed nor held: sent again later. Held with another body: parked.
    lrs.handle = (req, _body, res) => {
      if (req.method === "POST") return json(res, 200, []);
      const asked = new URL(req.url ?? "", lrs.url).searchParams.get("statementId");
      return asked === held
        ? json(res, 200, JSON.parse(body(held, "other")))
        : json(res, 404, { error: "not found" });
    };
    expect(await kinds()).toEqual(["parked", "retry"]);
  });

  it("follows no redirect: the statements and credentials go nowhere else, and wait", async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      lrs.handle = (_req, _body, res) =>
        res.writeHead(status, { location: `${elsewhere.url}/xapi/statements` }).end();
      const outcome = await errors();
      expect(outcome).toHaveLength(2);
      for (const error of outcome) expect(error).toContain("redirect");
    }
    expect(elsewhere.seen).toEqual([]);
  });

  it("keeps a statement for later when the GET after a 409 does not answer with a statement", async () => {
    lrs.handle = (req, _body, res) =>
      req.method === "POST"
        ? json(res, 409, { error: "conflict" })
        : res.writeHead(200, { "content-type": "text/html" }).end("<html>Please sign in</html>");
    expect(await kinds()).toEqual(["retry", "retry"]);
  });

  it("does not read an answer larger than 1 MB, and keeps the statements for later", async () => {
    lrs.handle = (_req, _body, res) => json(res, 200, [...ids, "x".repeat(2 * 1_048_576)]);
    const outcome = await errors();
    expect(outcome).toHaveLength(ids.length);
    for (const error of outcome) expect(error).toContain("longer than");
  });
});
