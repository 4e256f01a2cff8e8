/**
 * The IAM actions CDK grants each function on the table (infra/table-access.ts) against the
 * calls its code really makes: the web function's main flows, a forwarder sweep and a grade
 * delivery run through a counting proxy in front of DynamoDB Local, and every call must be one
 * the function is granted, on no partition it is denied. A call the grants miss would be an
 * AccessDenied that only AWS could show.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoClients } from "../../../adapters/dynamo/client.js";
import { DynamoLrsRouteStore } from "../../../adapters/dynamo/lrs-routes.js";
import { DynamoToolKeyStore } from "../../../adapters/dynamo/tool-keys.js";
import { type DynamoProxy, startDynamoProxy } from "../../../bench/lib/dynamo-proxy.js";
import {
  DEFAULT_DOUBLE_CREDENTIALS,
  type RunningLrsDouble,
  startLrsDouble,
} from "../../../dev/lrs-double/index.js";
import { launch } from "../../../dev/platform/driver.js";
import type { RunningDevPlatform } from "../../../dev/platform/index.js";
import { type RunningToolServer, startToolServer } from "../../../dev/tool-server.js";
import { findActivity } from "../../../domain/activities.js";
import { forwarderDepsFromEnv } from "../../../functions/forwarder/deps.js";
import { createSweepHandler } from "../../../functions/forwarder/stream.js";
import { gradeDeliveryDeps } from "../../../functions/grades/deps.js";
import { silentLogger } from "../../../functions/web/log.js";
import { TABLE_ACCESS, type TableAccess, WRITE_ACTIONS } from "../../../infra/table-access.js";
import { deliverDueGrades } from "../../../lti-tool/advantage/grades.js";
import { StoredKeySigner } from "../../../lti-tool/tool-keys.js";
import { createAesGcmCipher } from "../../../statements/credential-cipher.js";
import { form } from "../../support/app-launch.js";
import { localAwsForTests } from "../../support/local-aws.js";
import { startPlatform } from "../../support/stack.js";
import { enqueueGrades, gradeJob } from "../advantage/harness.js";

let aws: Awaited<ReturnType<typeof localAwsForTests>>;
let proxy: DynamoProxy;
let tool: RunningToolServer;
let platform: RunningDevPlatform;
let lrs: RunningLrsDouble;
const credentialKey = new Uint8Array(32).fill(5);

beforeAll(async () => {
  aws = await localAwsForTests();
  proxy = await startDynamoProxy(aws.dynamoEndpoint);
  // The tool talks to DynamoDB through the proxy only; the test's own set-up goes direct.
  tool = await startToolServer({
    dynamoEndpoint: proxy.endpoint,
    s3Endpoint: aws.s3Endpoint,
    tableName: aws.tableName,
    bucketName: aws.bucketName,
    log: silentLogger,
  });
  platform = await startPlatform({ aws, tool, stop: async () => {} });
  // An LRS for the platform, so launches write statements to the outbox and the forwarder runs.
  lrs = await startLrsDouble();
  const reg = platform.platform.registration();
  const cipher = createAesGcmCipher({ current: { kid: "env-1", key: credentialKey } });
  await new DynamoLrsRouteStore(aws.doc, aws.tableName, cipher).saveRoute({
    scope: { issuer: reg.issuer, clientId: reg.clientId },
    name: "double",
    endpoint: lrs.endpoint,
    ...DEFAULT_DOUBLE_CREDENTIALS,
  });
});
afterAll(async () => {
  await lrs?.stop();
  await platform?.stop();
  await tool?.stop();
  await proxy?.stop();
  await aws?.stop();
});

/** Every call since the last reset that `access` does not allow, as "Op ENTITY" lines. */
function refused(access: TableAccess): string[] {
  const writable = access.writablePartitions;
  return proxy
    .calls()
    .filter(
      (call) =>
        call.actions.some((a) => !(access.actions as readonly string[]).includes(a)) ||
        call.partitions.some((p) => access.deniedPartitions.includes(p)) ||
        (writable !== undefined &&
          call.actions.some((a) => (WRITE_ACTIONS as readonly string[]).includes(a)) &&
          call.partitions.some((p) => !writable.includes(p))),
    )
    .map((call) => `${call.actions.join("+")} ${call.partitions.join(",")}`);
}

describe("the table actions CDK grants cover the calls the code makes", () => {
  it("the web function: launches, the cohort page, the admin pages and registration links", async () => {
    proxy.reset();
    const base = tool.url;
    for (const user of ["candidate", "tutor"]) {
      const result = await launch({ platformUrl: platform.url, course: "2", user });
      expect(result.status).toBe(303);
      const page = await fetch(new URL(result.headers.get("location") ?? "", base));
      expect(page.status).toBe(200);
    }
    expect((await fetch(`${base}/.well-known/jwks.json`)).status).toBe(200);
    const key = Buffer.from(await tool.deps.adminKey()).toString("base64url");
    const login = await fetch(`${base}/admin/login`, { ...form({ key }), redirect: "manual" });
    const s = new URL(login.headers.get("location") ?? "", base).searchParams.get("s") ?? "";
    for (const page of ["/admin", "/admin/links", "/admin/grades", "/admin/xapi"]) {
      expect((await fetch(`${base}${page}?s=${encodeURIComponent(s)}`)).status).toBe(200);
    }
    const created = await fetch(`${base}/admin/links?s=${s}`, form({ note: "IAM check", days: "7" }));
    expect(created.status).toBe(201);
    const [link] = await tool.deps.registrationLinks.list(Math.floor(Date.now() / 1000));
    const removed = await fetch(`${base}/admin/links/remove?s=${s}`, {
      ...form({ id: link?.id ?? "" }),
      redirect: "manual",
    });
    expect(removed.status).toBe(303);

    const ops = new Set(proxy.calls().flatMap((c) => c.actions));
    // The flows did reach the table in the ways the grants are about.
    for (const op of ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"]) expect(ops).toContain(op);
    expect(refused(TABLE_ACCESS.web)).toEqual([]);
  });

  it("the forwarder's sweep: due statements to the LRS, marked delivered", async () => {
    const launched = await launch({ platformUrl: platform.url, course: "2", user: "candidate" });
    expect(launched.status).toBe(303);
    proxy.reset();
    // As the Forwarder function composes itself (its own client, through the proxy), quiet.
    const deps = await forwarderDepsFromEnv({
      TABLE_NAME: aws.tableName,
      XAPI_CREDENTIAL_KEY: Buffer.from(credentialKey).toString("base64url"),
      DYNAMODB_ENDPOINT: proxy.endpoint,
    });
    const report = await createSweepHandler(() => ({ ...deps, onEvent: () => {} }))();
    expect(report.delivered).toBeGreaterThan(0);
    expect(lrs.statements.all().length).toBeGreaterThan(0);
    expect(new Set(proxy.calls().flatMap((c) => c.actions))).toContain("BatchWriteItem");
    expect(refused(TABLE_ACCESS.forwarder)).toEqual([]);
  });

  it("grade delivery: due scores to the gradebook, with the tool's key read through its own client", async () => {
    const graded = findActivity("module-standards");
    if (!graded?.grading) throw new Error("no graded activity in the catalogue");
    const course = {
      issuer: platform.url,
      clientId: platform.platform.tool.clientId,
      deploymentId: platform.platform.tool.deploymentId,
      contextId: "2",
    };
    const userId = platform.platform.directory.user("candidate")?.id ?? "";
    await enqueueGrades(
      aws,
      gradeJob(course, {
        userId,
        activityId: graded.id,
        scoreGiven: 7,
        scoreMaximum: graded.grading.scoreMaximum,
        label: graded.grading.label,
        timestamp: new Date(Date.now() - 60_000).toISOString(),
      }),
    );
    // As the Grades function composes itself, on a client that goes through the proxy.
    const { doc, client } = createDynamoClients({ endpoint: proxy.endpoint });
    try {
      proxy.reset();
      const signer = new StoredKeySigner(new DynamoToolKeyStore(doc, aws.tableName));
      const report = await deliverDueGrades(
        gradeDeliveryDeps(doc, aws.tableName, signer, { backoffMs: 10 }),
        50,
      );
      expect(report.delivered).toBe(1);
      expect(proxy.calls().some((c) => c.partitions.includes("TOOLKEY"))).toBe(true);
      expect(refused(TABLE_ACCESS.grades)).toEqual([]);
    } finally {
      client.destroy();
    }
  });
});
