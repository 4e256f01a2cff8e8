/**
 * `npm run links` and `npm run lrs` against the local tool's table on DynamoDB Local: the CLIs a
 * provider uses to make, list and remove registration links and LRS routes without the admin page.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoLrsRouteStore } from "../../../adapters/dynamo/lrs-routes.js";
import { outboxTransactItems } from "../../../adapters/dynamo/outbox.js";
import { DynamoRegistrationLinkStore } from "../../../adapters/dynamo/registration-links.js";
import { DynamoRegistrationStore } from "../../../adapters/dynamo/registrations.js";
import { sha256b64url } from "../../../lti-tool/crypto.js";
import { registerPlatform } from "../../../lti-tool/registration.js";
import { createRegistrationLink } from "../../../lti-tool/registration-links.js";
import { createAesGcmCipher } from "../../../statements/credential-cipher.js";
import { loadOrCreateCredentialKey } from "../../../statements/credential-key-file.js";
import { localAwsForTests } from "../../support/local-aws.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
let aws: Awaited<ReturnType<typeof localAwsForTests>>;
let dataDir: string;

beforeAll(async () => {
  aws = await localAwsForTests();
  // The local tool's runtime file, as `npm start` writes it (this process stands in for it).
  dataDir = mkdtempSync(join(tmpdir(), "hlta-links-cli-"));
  writeFileSync(
    join(dataDir, "runtime.json"),
    JSON.stringify({
      pid: process.pid,
      dynamoEndpoint: aws.dynamoEndpoint,
      s3Endpoint: aws.s3Endpoint,
      tableName: aws.tableName,
      bucketName: aws.bucketName,
      toolUrl: "http://127.0.0.1:8787",
    }),
  );
});
afterAll(async () => {
  await aws?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** One of the local commands (dev/<name>.ts), on the local tool's table. */
function cli(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(ROOT, "dev", `${name}.ts`), ...args],
      { cwd: ROOT, env: { ...process.env, HLTA_DATA_DIR: dataDir, ...env }, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
const links = (...args: string[]) => cli("links", args);

describe("npm run links", () => {
  it("makes a link shown once, lists it by its note, and removes it", async () => {
    const created = await links("create", "--note", "St Mary's Moodle", "--days", "30");
    expect(created.code).toBe(0);
    const token =
      /http:\/\/127\.0\.0\.1:8787\/lti\/register\/([A-Za-z0-9_-]{43})/.exec(created.stdout)?.[1] ?? "";
    expect(token).not.toBe("");
    const store = new DynamoRegistrationLinkStore(aws.doc, aws.tableName);
    const saved = await store.get(sha256b64url(token));
    expect(saved?.note).toBe("St Mary's Moodle");
    expect(saved?.expiresAt).toBeGreaterThan(Math.floor(Date.now() / 1000) + 29 * 86_400);

    const listed = await links("list");
    expect(listed.stdout).toContain(`${saved?.id}  "St Mary's Moodle"`);
    // Only the fingerprint is kept: the list never shows a usable link.
    expect(listed.stdout).not.toContain(token);

    // With "=": an id is base64url, and one in 64 starts with "-".
    expect((await links("remove", `--id=${saved?.id ?? ""}`)).code).toBe(0);
    // An id that starts with "-" is taken too (none such here: said plainly).
    const dashed = await links("remove", `--id=-${"a".repeat(42)}`);
    expect(dashed.code).toBe(1);
    expect(dashed.stderr).toContain("There is no such link");
    expect(await store.get(sha256b64url(token))).toBeUndefined();
  }, 60_000);

  it("names a mistake in the flags and makes nothing", async () => {
    const store = new DynamoRegistrationLinkStore(aws.doc, aws.tableName);
    const before = (await store.list(Math.floor(Date.now() / 1000))).length;
    for (const args of [
      ["create"],
      ["create", "--note", "x", "--days", "91"],
      ["remove", "--id", "nope"],
      [],
    ]) {
      const run = await links(...args);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("Usage:");
    }
    const remote = await links("create", "--note", "x", "--table", "t");
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain("--url");
    // A --url without --table would be ignored: the link would point at the local tool instead.
    const stray = await links("create", "--note", "x", "--url", "https://tool.example.org");
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain("--url goes with --table");
    expect((await store.list(Math.floor(Date.now() / 1000))).length).toBe(before);
  }, 60_000);

  it("lists a used link without the LMS's control characters, and removing it leaves that LMS registered", async () => {
    const store = new DynamoRegistrationLinkStore(aws.doc, aws.tableName);
    const { link } = await createRegistrationLink(store, { note: "Used\u0007 one" });
    await store.markUsed(link.id, new Date().toISOString(), {
      issuer: "https://lms.test/\u001b[2J\u001b]0;pwned\u0007",
      clientId: "c\u001b1",
    });
    const listed = await links("list");
    expect(listed.stdout).toContain(link.id);
    // No escape sequence reaches the administrator's terminal.
    expect(listed.stdout).not.toContain("\u001b");
    expect(listed.stdout).not.toContain("\u0007");
    const removed = await links("remove", `--id=${link.id}`);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain("stays registered");
  }, 60_000);
});

describe("npm run lrs", () => {
  const lrs = (...args: string[]) => cli("lrs", args, { LRS_PASSWORD: "lrs-secret" });
  const route = (issuer: string) => [
    "add",
    "--issuer",
    issuer,
    "--client-id",
    "lrs-cli-client",
    "--endpoint",
    "http://127.0.0.1:9/xapi",
    "--username",
    "key",
  ];

  it("names a command it does not know, before it touches the table", async () => {
    const run = await lrs("frob");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Unknown command "frob"');
    expect(run.stderr).toContain("Usage:");
  }, 60_000);

  it("names each bad value by the flag that gave it, exits 2, and adds nothing", async () => {
    const before = (await lrs("list")).stdout;
    const run = await lrs(
      "add",
      "--issuer",
      "notaurl",
      "--client-id",
      "c",
      "--endpoint",
      "notaurl",
      "--username",
      "k",
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^ {2}--issuer: /m);
    expect(run.stderr).toMatch(/^ {2}--endpoint: /m);
    const missing = await lrs("add", "--issuer", "https://moodle.example", "--client-id", "c");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--endpoint and --username are required");
    expect((await lrs("list")).stdout).toBe(before);
  }, 60_000);

  it("takes an empty --deployment (an unset shell variable) as a mistake, not as every deployment", async () => {
    const before = (await lrs("list")).stdout;
    const added = await lrs(...route("https://moodle.example"), "--deployment", "");
    expect(added.code).toBe(2);
    expect(added.stderr).toMatch(/^ {2}--deployment: /m);
    const identifier = await lrs(
      "identifier",
      "--issuer",
      "https://moodle.example",
      "--client-id",
      "lrs-cli-client",
      "--deployment",
      "",
      "--type",
      "mbox",
    );
    expect(identifier.code).toBe(2);
    expect((await lrs("list")).stdout).toBe(before);
    const whole = await lrs(...route("https://whole.example"));
    expect(whole.stdout).toContain("every deployment");
    const one = await lrs(...route("https://whole.example"), "--deployment", "7");
    expect(one.stdout).toContain("deployment 7)");
  }, 60_000);

  it("keeps a route for an LMS not registered yet, and says so, since a mistyped issuer is never used", async () => {
    const unknown = await lrs(...route("https://nosuch.example"));
    expect(unknown.code).toBe(0);
    expect(unknown.stderr).toContain("no LMS is registered with issuer https://nosuch.example");
    await registerPlatform(
      {
        issuer: "https://moodle.example",
        clientId: "lrs-cli-client",
        authUrl: "https://moodle.example/mod/lti/auth.php",
        tokenUrl: "https://moodle.example/mod/lti/token.php",
        jwksUrl: "https://moodle.example/mod/lti/certs.php",
        deploymentIds: ["1"],
      },
      new DynamoRegistrationStore(aws.doc, aws.tableName),
    );
    const known = await lrs(...route("https://moodle.example"));
    expect(known.code).toBe(0);
    expect(known.stderr).not.toContain("no LMS is registered");
    const listed = await lrs("list");
    expect(listed.stdout).toContain("https://nosuch.example lrs-cli-client");
    expect(listed.stdout).toContain("https://moodle.example lrs-cli-client");
  }, 60_000);

  it("gives a route new credentials under its id, and will not remove one with statements waiting", async () => {
    const added = await lrs(...route("https://moodle.example"));
    const routeId = /Added route (\S+):/.exec(added.stdout)?.[1] ?? "";
    expect(routeId).not.toBe("");
    const routes = new DynamoLrsRouteStore(
      aws.doc,
      aws.tableName,
      createAesGcmCipher({
        current: loadOrCreateCredentialKey(join(dataDir, "keys", "xapi-credential.key")),
      }),
    );
    // A statement waiting on the route, as a launch's transaction leaves it.
    await aws.doc.send(
      new TransactWriteCommand({
        TransactItems: outboxTransactItems(
          [{ id: "0f8fad5b-d9cb-469f-a165-70867728950e", json: "{}", eventType: "launched" }],
          [{ routeId }],
          { tableName: aws.tableName, now: new Date() },
        ),
      }),
    );
    const renewed = await cli("lrs", ["credentials", `--id=${routeId}`, "--username", "new-key"], {
      LRS_PASSWORD: "new-secret",
    });
    expect(renewed.code).toBe(0);
    const withCredentials = await routes.getRouteWithCredentials(routeId);
    expect(withCredentials?.credentials.username).toBe("new-key");
    const refused = await lrs("remove", `--id=${routeId}`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("1 statement(s) waiting");
    expect(await routes.getRoute(routeId)).toBeDefined();
    expect((await lrs("remove", `--id=${routeId}`, "--force")).code).toBe(0);
    expect(await routes.getRoute(routeId)).toBeUndefined();
  }, 60_000);
});

describe("npm run lrs -- … --table (a deployed stack)", () => {
  /** Secrets Manager's GetSecretValue on loopback, counting the ids it was asked for. */
  async function secretsDouble(secretString: string) {
    const asked: string[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        const target = String(req.headers["x-amz-target"] ?? "");
        const secretId = String((JSON.parse(body || "{}") as { SecretId?: string }).SecretId ?? "");
        asked.push(secretId);
        res.setHeader("content-type", "application/x-amz-json-1.1");
        if (target !== "secretsmanager.GetSecretValue") {
          res.statusCode = 400;
          res.end(JSON.stringify({ __type: "InvalidRequestException", message: target }));
          return;
        }
        res.end(JSON.stringify({ ARN: secretId, Name: "XapiCredentialKey", SecretString: secretString }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url, asked, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }
  const deployed = (env: Record<string, string>, ...args: string[]) =>
    cli("lrs", [...args, "--table", aws.tableName], {
      LRS_PASSWORD: "deployed-secret",
      AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoEndpoint,
      // DynamoDB Local keeps one database per access key and region: the tool's (local, London).
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      HLTA_REGION: "eu-west-2",
      ...env,
    });
  const add = [
    "add",
    "--issuer",
    "https://deployed.example",
    "--client-id",
    "deployed-client",
    "--endpoint",
    "https://lrs.example/xapi/",
    "--username",
    "key",
  ];

  it("seals the credentials with the key the forwarder derives from the stack's secret", async () => {
    // What Secrets Manager generates for the stack: 43 characters that are also 32 bytes of base64url.
    const secretValue = "Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4fGh7jKl0nOpQ";
    expect(Buffer.from(secretValue, "base64url")).toHaveLength(32);
    const secrets = await secretsDouble(secretValue);
    try {
      const arn = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:XapiCredentialKey-abc123";
      const run = await deployed(
        { XAPI_CREDENTIAL_SECRET_ARN: arn, AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url },
        ...add,
      );
      expect(run.code, run.stderr).toBe(0);
      expect(secrets.asked).toEqual([arn]);
      const routeId = /route ([A-Za-z0-9_-]+)/i.exec(run.stdout)?.[1] ?? "";
      // The forwarder's key (functions/forwarder/deps.ts): SHA-256 of the secret's value.
      const forwarderKey = createHash("sha256").update(secretValue, "utf8").digest();
      const asForwarder = new DynamoLrsRouteStore(
        aws.doc,
        aws.tableName,
        createAesGcmCipher({ current: { kid: "env-1", key: forwarderKey } }),
      );
      const routes = await asForwarder.listRoutes();
      const made = routes.find((r) => r.scope.issuer === "https://deployed.example");
      expect(made, run.stdout).toBeDefined();
      const opened = await asForwarder.getRouteWithCredentials(made?.routeId ?? routeId);
      expect(opened?.credentials.reveal().password).toBe("deployed-secret");
    } finally {
      await secrets.close();
    }
  }, 60_000);

  it("without the secret's address or a 32-byte key, says which to set and writes nothing", async () => {
    // listRoutes reads no credentials: any key lists them.
    const routes = new DynamoLrsRouteStore(
      aws.doc,
      aws.tableName,
      createAesGcmCipher({ current: { kid: "k", key: Buffer.alloc(32) } }),
    );
    const before = (await routes.listRoutes()).length;
    const run = await deployed({ XAPI_CREDENTIAL_KEY: "too-short" }, ...add);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("XAPI_CREDENTIAL_SECRET_ARN");
    expect(run.stderr).toContain("XapiCredentialSecretArn");
    expect((await routes.listRoutes()).length).toBe(before);
  }, 60_000);
});
