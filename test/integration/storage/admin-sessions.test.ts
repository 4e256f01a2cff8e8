/**
 * Ending the tool administrator's sessions, on DynamoDB Local: the key store's admin-sessions
 * instant and replaced secrets in the table; a sign-out on one instance of the tool ending the
 * sessions another issued; and `npm run keys -- admin-key --replace`, with `--table` and on the
 * local key file, against running tools that never restart.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../../adapters/dynamo/table.js";
import { DynamoToolKeyStore } from "../../../adapters/dynamo/tool-keys.js";
import { FileToolKeyStore } from "../../../adapters/file/tool-keys.js";
import { type RunningToolServer, startToolServer } from "../../../dev/tool-server.js";
import { silentLogger } from "../../../functions/web/log.js";
import { ADMIN_KEY_SECRET } from "../../../lti-tool/tool-keys.js";
import { form } from "../../support/app-launch.js";
import { localAwsForTests } from "../../support/local-aws.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
let aws: Awaited<ReturnType<typeof localAwsForTests>>;
let dataDir: string;
const tools: RunningToolServer[] = [];

beforeAll(async () => {
  aws = await localAwsForTests();
  dataDir = mkdtempSync(join(tmpdir(), "hlta-admin-sessions-"));
});
afterAll(async () => {
  for (const tool of tools.splice(0)) await tool.stop();
  await aws?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** One more instance of the web app on the test's table (or over another key store). */
async function tool(keyStore?: FileToolKeyStore): Promise<RunningToolServer> {
  const running = await startToolServer({
    dynamoEndpoint: aws.dynamoEndpoint,
    s3Endpoint: aws.s3Endpoint,
    tableName: aws.tableName,
    bucketName: aws.bucketName,
    log: silentLogger,
    ...(keyStore ? { keyStore } : {}),
  });
  tools.push(running);
  return running;
}

const b64url = (key: Uint8Array) => Buffer.from(key).toString("base64url");

/** Sign in at `/admin/login`: the session token, or the refusal's status. */
async function signIn(at: RunningToolServer, key: string): Promise<{ status: number; s: string }> {
  const login = await fetch(`${at.url}/admin/login`, { ...form({ key }), redirect: "manual" });
  const s = new URL(login.headers.get("location") ?? "", at.url).searchParams.get("s") ?? "";
  return { status: login.status, s };
}
const pageStatus = async (at: RunningToolServer, s: string) =>
  (await fetch(`${at.url}/admin/platforms?s=${encodeURIComponent(s)}`)).status;

/** `npm run keys -- …`, its DynamoDB calls sent to DynamoDB Local (as to a stack's table in AWS). */
function keysCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(ROOT, "dev", "keys.ts"), ...args],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          HLTA_DATA_DIR: dataDir,
          AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoEndpoint,
          // DynamoDB Local keeps one database per access key and region: the tool's (local, London).
          AWS_ACCESS_KEY_ID: "local",
          AWS_SECRET_ACCESS_KEY: "local",
          HLTA_REGION: "eu-west-2",
        },
        timeout: 30_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
/** The key `admin-key --replace` printed (the line of its own). */
const printedKey = (stdout: string) => /^([A-Za-z0-9_-]{32})$/m.exec(stdout)?.[1] ?? "";

describe("the administration sessions' instant and replaced secrets in the table", () => {
  it("keeps the latest instant however sign-outs race or clocks differ, and replaces a secret in place", async () => {
    const store = new DynamoToolKeyStore(aws.doc, aws.tableName);
    expect(await store.adminSessionsValidFrom()).toBeUndefined();
    const t = Date.now();
    await Promise.all([3, 1, 4, 1, 5, 9, 2, 6].map((d) => store.endAdminSessions(new Date(t + d))));
    expect(await store.adminSessionsValidFrom()).toBe(t + 9);
    // Written by a clock behind: a session the later sign-out ended stays ended.
    await store.endAdminSessions(new Date(t - 60_000));
    expect(await new DynamoToolKeyStore(aws.doc, aws.tableName).adminSessionsValidFrom()).toBe(t + 9);
    await store.endAdminSessions(new Date(t + 10));
    expect(await store.adminSessionsValidFrom()).toBe(t + 10);

    const first = await store.getOrCreateSecret("replaced", () => new Uint8Array([1, 2, 3]));
    await store.replaceSecret("replaced", new Uint8Array([4, 5, 6]));
    await store.replaceSecret("made-by-replacing", new Uint8Array([7]));
    expect(Buffer.from(await store.getOrCreateSecret("replaced", () => first))).toEqual(
      Buffer.from([4, 5, 6]),
    );
    expect(Buffer.from(await store.getOrCreateSecret("made-by-replacing", () => first))).toEqual(
      Buffer.from([7]),
    );
    // The instant is not a secret and no secret is the instant.
    expect(await store.adminSessionsValidFrom()).toBe(t + 10);
  });

  it("refuses every session rather than guess when the instant was damaged by hand", async () => {
    const store = new DynamoToolKeyStore(aws.doc, aws.tableName);
    const before = await store.adminSessionsValidFrom();
    await aws.doc.send(
      new PutCommand({ TableName: aws.tableName, Item: { ...keys.adminSessions, validFrom: "yesterday" } }),
    );
    await expect(store.adminSessionsValidFrom()).rejects.toThrow(/damaged/);
    await aws.doc.send(
      new PutCommand({ TableName: aws.tableName, Item: { ...keys.adminSessions, validFrom: before } }),
    );
  });
});

describe("signing out and replacing the key, on every instance at once", () => {
  it("a sign-out on one instance ends the sessions another issued", async () => {
    const a = await tool();
    const b = await tool();
    const key = b64url(await a.deps.adminKey());
    const onA = await signIn(a, key);
    const onB = await signIn(b, key);
    for (const at of [a, b])
      expect([await pageStatus(at, onA.s), await pageStatus(at, onB.s)]).toEqual([200, 200]);

    const out = await fetch(`${a.url}/admin/sign-out`, form({ s: onA.s }));
    expect(out.status).toBe(200);
    expect(await out.text()).toContain("Every administration session that was open has ended.");
    for (const at of [a, b])
      expect([await pageStatus(at, onA.s), await pageStatus(at, onB.s)]).toEqual([401, 401]);
    const again = await signIn(b, key);
    expect(await pageStatus(a, again.s)).toBe(200);
  });

  it("npm run keys -- admin-key --replace --table: the old key stops signing in on a running tool, the new one signs in", async () => {
    const running = await tool();
    const oldKey = b64url(await running.deps.adminKey());
    const open = await signIn(running, oldKey);
    expect(await pageStatus(running, open.s)).toBe(200);

    const replaced = await keysCli(["admin-key", "--replace", "--table", aws.tableName]);
    expect(replaced.stderr).toBe("");
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain("the old one no longer signs in");
    expect(replaced.stdout).toContain("Every administration session that was open has ended");
    const newKey = printedKey(replaced.stdout);
    expect(newKey).not.toBe("");
    expect(newKey).not.toBe(oldKey);

    // The same instance, warm: it kept no copy of the old key.
    expect((await signIn(running, oldKey)).status).toBe(401);
    expect(await pageStatus(running, open.s)).toBe(401);
    const fresh = await signIn(running, newKey);
    expect(fresh.status).toBe(303);
    expect(await pageStatus(running, fresh.s)).toBe(200);
    // `admin-key` alone prints the key now in use.
    expect((await keysCli(["admin-key", "--table", aws.tableName])).stdout.trim()).toBe(newKey);
  }, 60_000);

  it("npm run keys -- admin-key --replace on the local key file, under a running npm start", async () => {
    const path = join(dataDir, "keys", "tool-keys.json");
    const running = await tool(new FileToolKeyStore(path));
    const oldKey = b64url(await running.deps.adminKey());
    const open = await signIn(running, oldKey);
    expect(await pageStatus(running, open.s)).toBe(200);

    const replaced = await keysCli(["admin-key", "--replace"]);
    expect(replaced.code).toBe(0);
    const newKey = printedKey(replaced.stdout);
    expect(
      b64url(await new FileToolKeyStore(path).getOrCreateSecret(ADMIN_KEY_SECRET, () => new Uint8Array())),
    ).toBe(newKey);
    expect((await signIn(running, oldKey)).status).toBe(401);
    expect(await pageStatus(running, open.s)).toBe(401);
    expect(await pageStatus(running, (await signIn(running, newKey)).s)).toBe(200);
  }, 60_000);

  it("names a flag given to the wrong command, exits 2, and changes nothing", async () => {
    const store = new DynamoToolKeyStore(aws.doc, aws.tableName);
    const key = b64url(await store.getOrCreateSecret(ADMIN_KEY_SECRET, () => new Uint8Array()));
    const validFrom = await store.adminSessionsValidFrom();
    const signingKeys = (await store.listKeys()).map((k) => k.kid);
    for (const [args, said] of [
      [["list", "--replace"], "--replace goes with admin-key, not with list"],
      [["rotate", "--replace"], "--replace goes with admin-key, not with rotate"],
      [["--replace"], "--replace goes with admin-key, not with list"],
      [["admin-key", "--replace", "--now"], "--now goes with rotate, not with admin-key"],
    ] as const) {
      const run = await keysCli([...args, "--table", aws.tableName]);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toContain(said);
      expect(run.stderr).toContain("Usage: npm run keys -- rotate [--now] | list | admin-key [--replace]");
      expect(run.stdout).toBe("");
    }
    expect(b64url(await store.getOrCreateSecret(ADMIN_KEY_SECRET, () => new Uint8Array()))).toBe(key);
    expect(await store.adminSessionsValidFrom()).toBe(validFrom);
    expect((await store.listKeys()).map((k) => k.kid)).toEqual(signingKeys);
  }, 60_000);
});
