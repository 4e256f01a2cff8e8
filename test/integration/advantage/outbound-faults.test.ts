import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AgsClient } from "../../../lti-tool/advantage/ags.js";
import { NrpsClient, UnfollowablePageError } from "../../../lti-tool/advantage/nrps.js";
import {
  AccessTokenError,
  PlatformServiceClient,
  PlatformServiceError,
  SCOPES,
} from "../../../lti-tool/advantage/service-client.js";
import type { PlatformRegistration } from "../../../lti-tool/ports.js";
import { StoredKeySigner } from "../../../lti-tool/tool-keys.js";
import { type Handler, json, type Site, site } from "../../support/loopback-site.js";
import { MemoryToolKeyStore } from "../../support/memory-stores.js";

// An LMS that answers badly, over real HTTP on loopback (fetch's own redirect handling is what
// is under test), and another site that must never hear from the tool. Found by an adversarial
// pass over the tool's outbound calls (2026-11-24).

let lms: Site;
let elsewhere: Site;
let platform: PlatformRegistration;
let signer: StoredKeySigner;

beforeAll(async () => {
  [lms, elsewhere] = await Promise.all([site(), site()]);
  signer = new StoredKeySigner(new MemoryToolKeyStore());
  await signer.ensureKey();
  platform = {
    issuer: lms.url,
    clientId: "tool-1",
    authUrl: `${lms.url}/auth`,
    tokenUrl: `${lms.url}/token`,
    jwksUrl: `${lms.url}/jwks`,
    createdAt: "2026-01-01T00:00:00.000Z",
  };
});
afterAll(async () => {
  await Promise.all([lms?.stop(), elsewhere?.stop()]);
});
beforeEach(() => {
  lms.seen.length = 0;
  elsewhere.seen.length = 0;
  elsewhere.handle = (_req, _body, res) =>
    res.writeHead(200, { "content-type": "application/json" }).end("[]");
});

const token = (res: ServerResponse, expiresIn: unknown = 3600, value = "tok-1") =>
  json(res, 200, { access_token: value, token_type: "Bearer", expires_in: expiresIn });
const client = () => new PlatformServiceClient({ signer, backoffMs: 1, timeoutMs: 2_000 });
const lineItem = (id: string, resourceId: string) => ({
  id: `${lms.url}/lineitems/${id}`,
  label: "Standards",
  scoreMaximum: 100,
  resourceId,
});

/** An LMS whose memberships answer one member and a next link to `next`. */
const oneMemberPage =
  (next: string): Handler =>
  (req, _body, res) =>
    req.url === "/token"
      ? token(res)
      : json(
          res,
          200,
          { id: "m", members: [{ user_id: "u1", roles: ["Learner"] }] },
          { link: `<${next}>; rel="next"` },
        );

describe("redirects from the LMS are followed by no one", () => {
  it("does not count a score as posted when the LMS redirects the POST", async () => {
    for (const status of [301, 302, 303, 307]) {
      lms.handle = (req, _body, res) =>
        req.url === "/token"
          ? token(res)
          : res.writeHead(status, { location: `${elsewhere.url}/landing` }).end();
      const error = await new AgsClient(client())
        .postScore(platform, `${lms.url}/lineitems/1`, {
          userId: "u1",
          scoreGiven: 1,
          scoreMaximum: 1,
          activityProgress: "Completed",
          gradingProgress: "FullyGraded",
          timestamp: "2026-11-24T09:00:00.000Z",
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PlatformServiceError);
      expect((error as PlatformServiceError).userMessage).toContain("redirect");
      expect(elsewhere.seen).toEqual([]);
    }
  });

  it("does not carry the signed assertion to another site when the token endpoint redirects", async () => {
    lms.handle = (_req, _body, res) => res.writeHead(307, { location: `${elsewhere.url}/token` }).end();
    await expect(client().accessToken(platform, [SCOPES.score])).rejects.toBeInstanceOf(AccessTokenError);
    expect(elsewhere.seen).toEqual([]);
  });

  it("does not send the access token to a next page on another site, nor pass the first page for the whole list", async () => {
    lms.handle = oneMemberPage(`${elsewhere.url}/members?page=2`);
    const error = await new NrpsClient(client())
      .members(platform, `${lms.url}/members`)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnfollowablePageError);
    expect((error as UnfollowablePageError).retryable).toBe(false);
    expect(elsewhere.seen).toEqual([]);
  });
});

describe("answers the tool reads within bounds", () => {
  it("stops at a next page it has already read", async () => {
    lms.handle = oneMemberPage(`${lms.url}/members`);
    const members = await new NrpsClient(client()).members(platform, `${lms.url}/members`);
    expect(members).toHaveLength(1);
    expect(lms.seen.filter((r) => r.path === "/members")).toHaveLength(1);
  });

  it("refuses an answer larger than it reads, without holding it", async () => {
    const page = JSON.stringify({ id: "m", members: [], pad: "x".repeat(5 * 1_048_576) });
    lms.handle = (req, _body, res) => (req.url === "/token" ? token(res) : json(res, 200, JSON.parse(page)));
    const error = await new NrpsClient(client())
      .members(platform, `${lms.url}/members`)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformServiceError);
    expect((error as PlatformServiceError).retryable).toBe(false);
    expect((error as PlatformServiceError).userMessage).toContain("larger than the tool reads");
  });
});

describe("answers partly odd", () => {
  it("lists the members it can read when one entry is odd", async () => {
    lms.handle = (req, _body, res) =>
      req.url === "/token"
        ? token(res)
        : json(res, 200, {
            id: "m",
            members: [
              { user_id: "u1", roles: ["Learner"] },
              { roles: "nope" },
              null,
              { user_id: "u2", roles: [] },
            ],
          });
    const members = await new NrpsClient(client()).members(platform, `${lms.url}/members`);
    expect(members.map((m) => m.userId)).toEqual(["u1", "u2"]);
  });

  it("takes Moodle's 409 to a score it already holds as done (a POST sent again after a lost answer)", async () => {
    lms.handle = (req, _body, res) =>
      req.url === "/token"
        ? token(res)
        : json(res, 409, {
            status: 409,
            reason: "Refusing score with an earlier timestamp for item 1 and user 2",
          });
    await expect(
      new AgsClient(client()).postScore(platform, `${lms.url}/lineitems/1`, {
        userId: "u1",
        activityProgress: "Completed",
        gradingProgress: "FullyGraded",
        timestamp: "2026-11-24T09:00:00.000Z",
      }),
    ).resolves.toBeUndefined();
  });

  it("keeps a score for later when Canvas says its rate limit was exceeded", async () => {
    lms.handle = (req, _body, res) =>
      req.url === "/token" ? token(res) : res.writeHead(403).end("403 Forbidden (Rate Limit Exceeded)");
    const error = await new AgsClient(client())
      .postScore(platform, `${lms.url}/lineitems/1`, {
        userId: "u1",
        activityProgress: "Completed",
        gradingProgress: "FullyGraded",
        timestamp: "2026-11-24T09:00:00.000Z",
      })
      .catch((e: unknown) => e);
    expect((error as PlatformServiceError).retryable).toBe(true);
  });
});

describe("access tokens", () => {
  it("asks for a new token once when the LMS no longer takes the cached one", async () => {
    let issued = 0;
    lms.handle = (req, _body, res) => {
      if (req.url === "/token") return token(res, 3600, `tok-${++issued}`);
      return req.headers.authorization === "Bearer tok-2"
        ? json(res, 200, { id: "m", members: [] })
        : json(res, 401, { error: "invalid_token" });
    };
    const c = client();
    await c.accessToken(platform, [SCOPES.memberships]);
    await expect(new NrpsClient(c).members(platform, `${lms.url}/members`)).resolves.toEqual([]);
    expect(issued).toBe(2);
  });

  it("lets each caller stop waiting for a shared token request at its own deadline, not another's", async () => {
    let requests = 0;
    lms.handle = (_req, _body, res) => {
      requests++;
      setTimeout(() => token(res), 150);
    };
    const c = client();
    const [hurried, patient] = await Promise.allSettled([
      c.accessToken(platform, [SCOPES.score], AbortSignal.timeout(20)),
      c.accessToken(platform, [SCOPES.score]),
    ]);
    expect(hurried.status).toBe("rejected");
    expect((hurried as PromiseRejectedResult).reason).toBeInstanceOf(PlatformServiceError);
    expect((hurried as PromiseRejectedResult).reason.retryable).toBe(true);
    expect(patient).toEqual({ status: "fulfilled", value: "tok-1" });
    expect(requests).toBe(1);
  });

  it("reads expires_in sent as a string, and does not keep a token whose lifetime is zero", async () => {
    let issued = 0;
    lms.handle = (_req, _body, res) => token(res, issued++ === 0 ? "3600" : 0, `tok-${issued}`);
    const c = client();
    expect(await c.accessToken(platform, [SCOPES.score])).toBe("tok-1");
    expect(await c.accessToken(platform, [SCOPES.score])).toBe("tok-1");
    expect(await c.accessToken(platform, [SCOPES.lineItem])).toBe("tok-2");
    expect(await c.accessToken(platform, [SCOPES.lineItem])).toBe("tok-3");
  });
});

describe("line items", () => {
  const item = { label: "Standards", scoreMaximum: 100, resourceId: "module-standards" };
  const ags = () => new AgsClient(client());
  const posts = () => lms.seen.filter((r) => r.method === "POST" && r.path === "/lineitems");

  it("never creates a second column when the list cannot be read", async () => {
    for (const answer of [{}, "<html>Sign in</html>"]) {
      lms.handle = (req, _body, res) =>
        req.url === "/token"
          ? token(res)
          : typeof answer === "string"
            ? res.writeHead(200, { "content-type": "text/html" }).end(answer)
            : json(res, 200, answer);
      const error = await ags()
        .findOrCreateLineItem(platform, `${lms.url}/lineitems`, item)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PlatformServiceError);
      expect((error as PlatformServiceError).retryable).toBe(true);
    }
    expect(posts()).toEqual([]);
  });

  it("finds ours past another tool's odd item, and on a later page", async () => {
    lms.handle = (req, _body, res) => {
      if (req.url === "/token") return token(res);
      if (req.url?.includes("page=2")) return json(res, 200, [lineItem("7", "module-standards")]);
      return json(res, 200, [{ id: "odd", scoreMaximum: 0 }, lineItem("3", "another-tool")], {
        link: `<${lms.url}/lineitems?page=2>; rel="next"`,
      });
    };
    const found = await ags().findOrCreateLineItem(platform, `${lms.url}/lineitems`, item);
    expect(found.id).toBe(`${lms.url}/lineitems/7`);
    expect(posts()).toEqual([]);
  });
});
