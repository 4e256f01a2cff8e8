import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { createDynamoClients } from "../adapters/dynamo/client.js";
import { allowLoopbackEndpoints } from "../domain/endpoints.js";
import { regionFrom } from "../infra/config.js";

/** Where `npm start` keeps its data (git-ignored) and tells the CLIs how to reach it. */
export const DATA_DIR = process.env.HLTA_DATA_DIR || join(process.cwd(), ".data");
const RUNTIME_FILE = join(DATA_DIR, "runtime.json");

const RuntimeSchema = z.object({
  pid: z.number(),
  dynamoEndpoint: z.string(),
  s3Endpoint: z.string(),
  tableName: z.string(),
  bucketName: z.string(),
  toolUrl: z.string(),
});
export type RuntimeInfo = z.infer<typeof RuntimeSchema>;

export function writeRuntimeFile(info: RuntimeInfo): void {
  writeFileSync(RUNTIME_FILE, JSON.stringify(info, null, 2));
}

/**
 * Removes the runtime file if this process wrote it: another running instance's stays (a
 * second `npm start` that failed must not make the first one look stopped).
 */
export function removeRuntimeFile(): void {
  const current = readRuntimeFile();
  if (current && current.pid !== process.pid) return;
  rmSync(RUNTIME_FILE, { force: true });
}

/** The running local tool, or undefined when it is not running (stale or damaged files are ignored). */
export function readRuntimeFile(): RuntimeInfo | undefined {
  if (!existsSync(RUNTIME_FILE)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(RUNTIME_FILE, "utf8"));
  } catch {
    return undefined;
  }
  const parsed = RuntimeSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  try {
    process.kill(parsed.data.pid, 0);
  } catch {
    return undefined;
  }
  return parsed.data;
}

/**
 * The region of a deployed stack's table, for the CLIs' --table: the region `cdk deploy` put the
 * stack in (HLTA_REGION, else London), whatever AWS_REGION says.
 */
export function deployedRegion(env: Record<string, string | undefined> = process.env): string {
  return regionFrom(env);
}

/** deployedRegion() for a CLI: undefined, with the reason printed, when HLTA_REGION is not a region. */
export function deployedRegionOrSay(): string | undefined {
  try {
    return deployedRegion();
  } catch (error) {
    console.error(`Not done: ${(error as Error).message}.`);
    return undefined;
  }
}

/**
 * The table a CLI works on: a deployed stack's (`--table NAME`, AWS credentials from the
 * environment) or the running local tool's. Undefined, with the reason printed, when neither.
 */
export function openTable(
  table: string | undefined,
): { doc: DynamoDBDocumentClient; tableName: string; close(): void } | undefined {
  const local = table ? undefined : readRuntimeFile();
  if (!table && !local) {
    console.error(
      "The local tool is not running: start it with `npm start` first, or pass --table NAME for a deployed table.",
    );
    return undefined;
  }
  const region = local ? undefined : deployedRegionOrSay();
  if (!local && !region) return undefined;
  // The local tool's platforms and LRSs may be on loopback (the development platform, the double).
  if (local) allowLoopbackEndpoints();
  const { doc, client } = createDynamoClients(local ? { endpoint: local.dynamoEndpoint } : { region });
  return { doc, tableName: table ?? local?.tableName ?? "", close: () => client.destroy() };
}
