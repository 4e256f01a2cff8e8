/**
 * adapters/http/node-get.ts against a real HTTP server on loopback: it answers as fetch does for
 * what its callers send (GET, headers, a signal, redirect "manual"), and refuses the rest.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeGet } from "../../../adapters/http/node-get.js";
import { getFollowingSafeRedirects } from "../../../domain/endpoints.js";
import { BodyTooLargeError, readCapped } from "../../../domain/http-body.js";
import { PlatformJwksCache } from "../../../lti-tool/platform-jwks.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Handler>();
let server: Server;
let base: string;
const seen: IncomingMessage[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    const handler = routes.get(new URL(req.url ?? "/", "http://x").pathname);
    if (handler) handler(req, res);
    else res.writeHead(404, { "content-type": "text/plain" }).end("no such page");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const manual = { redirect: "manual" } as const;

/** What a caller reads of an answer, so fetch's and nodeGet's can be compared. */
async function read(response: Response) {
  const headers = [...response.headers].filter(
    ([name]) => !["date", "connection", "keep-alive"].includes(name),
  );
  return { status: response.status, statusText: response.statusText, headers, body: await response.text() };
}

describe("nodeGet", () => {
  it("answers as fetch does: status, headers (repeated ones too), body, and the headers it was given", async () => {
    routes.set("/keys", (req, res) => {
      res.setHeader("set-cookie", ["a=1", "b=2"]);
      res.writeHead(200, "Fine", {
        "content-type": "application/json",
        "x-seen-accept": req.headers.accept ?? "",
      });
      res.end('{"keys":[]}');
    });
    routes.set("/gone", (_req, res) => res.writeHead(410).end("gone"));
    routes.set("/empty", (_req, res) => res.writeHead(204).end());
    for (const path of ["/keys", "/gone", "/empty", "/missing"]) {
      const init = { ...manual, headers: { accept: "application/json" } };
      const ours = await read(await nodeGet(`${base}${path}`, init));
      const theirs = await read(await fetch(`${base}${path}`, init));
      expect(ours, path).toEqual(theirs);
    }
    const keys = await nodeGet(new URL(`${base}/keys`), {
      ...manual,
      headers: { accept: "application/json" },
    });
    expect(keys.headers.get("x-seen-accept")).toBe("application/json");
    expect(keys.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await keys.json()).toEqual({ keys: [] });
  });

  it("returns a redirect as it is, and getFollowingSafeRedirects follows it through nodeGet", async () => {
    routes.set("/old", (_req, res) => res.writeHead(302, { location: "/keys" }).end());
    const redirect = await nodeGet(`${base}/old`, manual);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe("/keys");
    await redirect.body?.cancel();
    // Loopback is allowed in the integration layer (test/support/loopback-endpoints.ts).
    const followed = await getFollowingSafeRedirects(`${base}/old`, {}, nodeGet);
    expect(followed.status).toBe(200);
    expect(await followed.text()).toBe('{"keys":[]}');
  });

  it("streams the body, so a reader's cap stops a large answer without reading it all", async () => {
    let written = 0;
    routes.set("/huge", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 32);
      const more = () => {
        while (written < 64 * 1024 * 1024 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", more);
        }
        res.end();
      };
      more();
      res.once("close", () => undefined);
    });
    const response = await nodeGet(`${base}/huge`, manual);
    await expect(readCapped(response, 256 * 1024)).rejects.toBeInstanceOf(BodyTooLargeError);
    // The server stopped well short of the 64 MB it would have sent.
    expect(written).toBeLessThan(16 * 1024 * 1024);
  });

  it("gives up when its signal aborts, before the answer or during the body", async () => {
    routes.set("/slow", () => undefined); // never answers
    await expect(nodeGet(`${base}/slow`, { ...manual, signal: AbortSignal.timeout(50) })).rejects.toThrow();
    routes.set("/trickle", (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("a"); // and nothing more
    });
    const controller = new AbortController();
    const response = await nodeGet(`${base}/trickle`, { ...manual, signal: controller.signal });
    const body = response.text();
    controller.abort();
    await expect(body).rejects.toThrow();
    const aborted = AbortSignal.abort(new Error("already aborted"));
    await expect(nodeGet(`${base}/keys`, { ...manual, signal: aborted })).rejects.toThrow("already aborted");
  });

  it("rejects a refused connection, as fetch does", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(nodeGet(`http://127.0.0.1:${port}/`, manual)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${port}/`, manual)).rejects.toThrow();
  });

  it("refuses what it does not do, with a TypeError and no request sent", async () => {
    const before = seen.length;
    const refused: [string, Promise<Response>][] = [
      ["POST", nodeGet(`${base}/keys`, { ...manual, method: "POST" })],
      ["a body", nodeGet(`${base}/keys`, { ...manual, method: "GET", body: "x" })],
      ["following redirects", nodeGet(`${base}/keys`)],
      ["ftp", nodeGet("ftp://127.0.0.1/keys", manual)],
      ["not a URL", nodeGet("not a url", manual)],
      ["a Request", nodeGet(new Request(`${base}/keys`), manual)],
    ];
    for (const [what, attempt] of refused) await expect(attempt, what).rejects.toBeInstanceOf(TypeError);
    expect(seen.length).toBe(before);
  });

  it("fetches an LMS's keys for the launch check, as the web function wires it (functions/web/compose.ts)", async () => {
    const { publicKey } = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    routes.set("/jwks", (_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] })),
    );
    const cache = new PlatformJwksCache({ fetch: nodeGet });
    expect(await cache.verificationKey(`${base}/jwks`, "k1")).toBeDefined();
    await expect(cache.verificationKey(`${base}/jwks`, "unknown")).resolves.toBeUndefined();
  });
});
