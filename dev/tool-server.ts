/**
 * Serves the tool on @hono/node-server, over DynamoDB Local and s3rver: the web and admin
 * functions' routes in one app (functions/web/app.tsx). Used by `npm start`, the integration tests and the benchmarks.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { adminApps } from "../functions/admin/admin-app.js";
import { createApp } from "../functions/web/app.js";
import { type BuildOptions, buildDeps, RuntimeConfigSchema } from "../functions/web/compose.js";
import type { AppDeps } from "../functions/web/deps.js";

export interface ToolServerOptions extends BuildOptions {
  dynamoEndpoint: string;
  s3Endpoint: string;
  tableName: string;
  bucketName: string;
  port?: number;
  host?: "127.0.0.1" | "localhost";
}

export interface RunningToolServer {
  url: string;
  deps: AppDeps;
  stop(): Promise<void>;
}

export async function startToolServer(options: ToolServerOptions): Promise<RunningToolServer> {
  const {
    port = 0,
    host = "127.0.0.1",
    dynamoEndpoint,
    s3Endpoint,
    tableName,
    bucketName,
    ...build
  } = options;
  let app: ReturnType<typeof createApp> | undefined;
  const server = serve({
    hostname: host,
    port,
    fetch: (request) => (app ? app.fetch(request) : new Response("The tool is starting.", { status: 503 })),
  });
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once("error", reject);
    server.once("listening", () => resolve(server.address() as AddressInfo));
  });
  const url = `http://${host}:${address.port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      if ("closeAllConnections" in server) server.closeAllConnections();
    });
  try {
    const config = RuntimeConfigSchema.parse({
      TABLE_NAME: tableName,
      EVIDENCE_BUCKET: bucketName,
      DYNAMODB_ENDPOINT: dynamoEndpoint,
      S3_ENDPOINT: s3Endpoint,
      PUBLIC_URL: url,
      HLTA_MODE: "local",
    });
    // The whole tool, as both functions serve it deployed: the admin pages too.
    const deps = await buildDeps(config, { admin: adminApps, ...build });
    app = createApp(deps);
    return { url, deps, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
