import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { createLrsDoubleApp } from "./app.js";
import { FaultController } from "./faults.js";
import { StatementStore } from "./store.js";

/**
 * Start the LRS double on loopback. Real LRSs cannot be installed here (xapi.md), so tests,
 * benches and the dev server send to this one; the README says how to point the tool at a real
 * LRS instead.
 */

export interface LrsDoubleStartOptions {
  /** Omit for a free port. */
  port?: number;
  /** Basic credentials the double demands; `null` turns auth off. */
  credentials?: { username: string; password: string } | null;
  /** Seed of the fault PRNG (same seed and request order → same faults). */
  seed?: number;
  maxBodyBytes?: number;
}

export interface RunningLrsDouble {
  /** Origin of the double; the statements page is at `${url}/`. */
  url: string;
  /** The xAPI endpoint to configure an LRS route with. */
  endpoint: string;
  credentials: { username: string; password: string } | null;
  faults: FaultController;
  statements: StatementStore;
  stop(): Promise<void>;
}

export const DEFAULT_DOUBLE_CREDENTIALS = { username: "hlta-dev", password: "hlta-dev-secret" };

export async function startLrsDouble(options: LrsDoubleStartOptions = {}): Promise<RunningLrsDouble> {
  const statements = new StatementStore();
  const faults = new FaultController(options.seed ?? 1);
  const credentials = options.credentials === undefined ? DEFAULT_DOUBLE_CREDENTIALS : options.credentials;
  const app = createLrsDoubleApp({
    store: statements,
    faults,
    credentials,
    maxBodyBytes: options.maxBodyBytes ?? 1_500_000,
  });
  // HTTP/1.1 server from @hono/node-server (createAdaptorServer without http2 options).
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    endpoint: `${url}/xapi/`,
    credentials,
    faults,
    statements,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hanging "timeout" requests and idle keep-alive sockets end now, not after their timers.
        server.closeAllConnections();
      }),
  };
}
