/**
 * Serves the development platform on loopback with @hono/node-server. With `port: 0` the OS
 * picks a free port; the platform is built once the port is known, so its issuer and URLs
 * carry the real port.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createDevPlatform, type DevPlatform, type DevPlatformOptions } from "./platform.js";

export interface StartDevPlatformOptions extends Omit<DevPlatformOptions, "baseUrl"> {
  /** 0 (default) for any free port. */
  readonly port?: number;
  /** Loopback only: the platform is never exposed. Default 127.0.0.1. */
  readonly host?: "127.0.0.1" | "localhost";
  /** Public base URL when it differs from `http://<host>:<port>`. */
  readonly baseUrl?: string;
}

export interface RunningDevPlatform {
  /** Base URL, no trailing slash: also the issuer. */
  readonly url: string;
  readonly platform: DevPlatform;
  stop(): Promise<void>;
}

export async function startDevPlatform(options: StartDevPlatformOptions): Promise<RunningDevPlatform> {
  const { port = 0, host = "127.0.0.1", baseUrl, ...platformOptions } = options;
  let platform: DevPlatform | undefined;
  const server = serve({
    hostname: host,
    port,
    fetch: (request) =>
      platform ? platform.app.fetch(request) : new Response("The platform is starting.", { status: 503 }),
  });
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once("error", reject);
    server.once("listening", () => resolve(server.address() as AddressInfo));
  });
  const close = () =>
    new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      // Keep-alive connections would hold close() open.
      if ("closeAllConnections" in server) server.closeAllConnections();
    });
  try {
    platform = await createDevPlatform({
      ...platformOptions,
      baseUrl: baseUrl ?? `http://${host}:${address.port}`,
    });
  } catch (err) {
    await close();
    throw err;
  }
  return { url: platform.baseUrl, platform, stop: close };
}
