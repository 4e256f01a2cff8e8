/**
 * The table access CDK grants each function against the calls its code really makes: the web
 * function's main flows, the forwarder (stream handler and sweep), and grade delivery (with its
 * first signing key), run through a recording proxy in front of DynamoDB Local. Every request
 * (a transaction: every item) is checked twice:
 *   - against infra/table-access.ts: an action the function holds, on no partition it is
 *     denied, inside the fence its action has (readablePartitions, writablePartitions[ByAction]);
 *   - against the IAM policies the stack really synthesizes, evaluated by the model in
 *     test/infra/iam-model.ts with the full key values (`dynamodb:LeadingKeys`).
 * A call the grants miss would be an AccessDenied that only AWS could show.
 */
import { readFileSync } from "node:fs";
import { CreateTableCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDynamoClients } from "../../../adapters/dynamo/client.js";
import { DynamoLrsRouteStore } from "../../../adapters/dynamo/lrs-routes.js";
import { tableDefinition } from "../../../adapters/dynamo/schema.js";
import { DynamoToolKeyStore } from "../../../adapters/dynamo/tool-keys.js";
import {
  DEFAULT_DOUBLE_CREDENTIALS,
  type RunningLrsDouble,
  startLrsDouble,
} from "../../../dev/lrs-double/index.js";
import { launch } from "../../../dev/platform/driver.js";
import type { RunningDevPlatform } from "../../../dev/platform/index.js";
import { type RunningToolServer, startToolServer } from "../../../dev/tool-server.js";
import { findActivity } from "../../../domain/activities.js";
import { courseScopeKey } from "../../../domain/tenancy.js";
import { forwarderDepsFromEnv } from "../../../functions/forwarder/deps.js";
import {
  createStreamHandler,
  createSweepHandler,
  type DynamoDBStreamEvent,
} from "../../../functions/forwarder/stream.js";
import { gradeDeliveryDeps } from "../../../functions/grades/deps.js";
import { silentLogger } from "../../../functions/web/log.js";
import type { HltaFunction } from "../../../infra/constructs/hlta-function.js";
import { HltaStack } from "../../../infra/stacks/hlta-stack.js";
import {
  entityOf,
  partitionsFor,
  TABLE_ACCESS,
  type TableAccess,
  type TableAction,
} from "../../../infra/table-access.js";
import { deliverDueGrades } from "../../../lti-tool/advantage/grades.js";
import { StoredKeySigner } from "../../../lti-tool/tool-keys.js";
import { createAesGcmCipher } from "../../../statements/credential-cipher.js";
import { type TableRequest, tableDecision } from "../../infra/iam-model.js";
import { form } from "../../support/app-launch.js";
import { localAwsForTests } from "../../support/local-aws.js";
import { startPlatform } from "../../support/stack.js";
import { enqueueGrades, gradeJob } from "../advantage/harness.js";
import { authRequests, type CallRecorder, type RawCall, startRecorder } from "./recorded-calls.js";

const cdkJson = JSON.parse(readFileSync(new URL("../../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};

let stack: HltaStack;
let template: Template;
let aws: Awaited<ReturnType<typeof localAwsForTests>>;
let rec: CallRecorder;
let tool: RunningToolServer;
let platform: RunningDevPlatform;
let lrs: RunningLrsDouble;
let routeId = "";
const credentialKey = new Uint8Array(32).fill(5);

beforeAll(async () => {
  // The policies `cdk synth` would deploy (same feature flags); the bundles are not needed here.
  stack = new HltaStack(
    new App({ context: { ...cdkJson.context, "aws:cdk:bundling-stacks": [] } }),
    "Hlta-iam",
    { stage: "iam" },
  );
  template = Template.fromStack(stack);
  aws = await localAwsForTests();
  rec = await startRecorder(aws.dynamoEndpoint);
  // The tool talks to DynamoDB through the recorder only; the test's own set-up goes direct.
  tool = await startToolServer({
    dynamoEndpoint: rec.endpoint,
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
  const route = await new DynamoLrsRouteStore(aws.doc, aws.tableName, cipher).saveRoute({
    scope: { issuer: reg.issuer, clientId: reg.clientId },
    name: "double",
    endpoint: lrs.endpoint,
    ...DEFAULT_DOUBLE_CREDENTIALS,
  });
  routeId = route.routeId;
}, 120_000);
afterAll(async () => {
  await lrs?.stop();
  await platform?.stop();
  await tool?.stop();
  await rec?.stop();
  await aws?.stop();
});

const describeRequest = (r: TableRequest) =>
  `${r.action} ${r.leadingKeys.join(",") || "(no leading key)"}${r.index ? " (gsi1)" : ""}`;

/** Every request `access` (infra/table-access.ts) does not allow. */
function refusedByLists(access: TableAccess, requests: readonly TableRequest[]): string[] {
  return requests
    .filter((r) => {
      if (r.leadingKeys.length === 0) return true;
      if (!(access.actions as readonly string[]).includes(r.action)) return true;
      const entities = r.leadingKeys.map(entityOf);
      if (entities.some((e) => access.deniedPartitions.includes(e))) return true;
      const fence = partitionsFor(access, r.action as TableAction);
      return fence !== undefined && entities.some((e) => !fence.includes(e));
    })
    .map(describeRequest);
}

/** Every request the synthesized policies of `fn` refuse. */
function refusedByPolicies(fn: HltaFunction, requests: readonly TableRequest[]): string[] {
  return requests
    .filter((r) => r.leadingKeys.length === 0 || tableDecision(template, stack, fn, r) === "DENIED")
    .map(describeRequest);
}

const requestsOf = (calls: readonly RawCall[]) => calls.flatMap(authRequests);
const has = (requests: readonly TableRequest[], action: string, key: (k: string) => boolean, index = false) =>
  requests.some((r) => r.action === action && r.index === index && r.leadingKeys.some(key));

describe("the table access CDK grants covers every call the code makes", () => {
  it("the web function: launches, the candidate's and the cohort page, the tool's keys", async () => {
    rec.reset();
    const base = tool.url;
    for (const user of ["candidate", "tutor"]) {
      const result = await launch({ platformUrl: platform.url, course: "2", user });
      expect(result.status).toBe(303);
      const page = await fetch(new URL(result.headers.get("location") ?? "", base));
      expect(page.status).toBe(200);
    }
    expect((await fetch(`${base}/.well-known/jwks.json`)).status).toBe(200);

    const requests = requestsOf(rec.calls());
    // The flows did reach the table in the ways the grants are about.
    const actions = new Set(requests.map((r) => r.action));
    for (const op of ["GetItem", "Query", "PutItem", "UpdateItem"]) expect(actions).toContain(op);
    expect(actions).not.toContain("DeleteItem");
    expect(has(requests, "GetItem", (k) => k === "TOOLSECRET")).toBe(true);
    expect(refusedByLists(TABLE_ACCESS.web, requests)).toEqual([]);
    expect(refusedByPolicies(stack.web, requests)).toEqual([]);
  });

  it("the admin function: the admin pages, registration links made and removed, sign-out", async () => {
    rec.reset();
    const base = tool.url;
    const key = Buffer.from(await tool.deps.adminKey()).toString("base64url");
    const login = await fetch(`${base}/admin/login`, { ...form({ key }), redirect: "manual" });
    const s = new URL(login.headers.get("location") ?? "", base).searchParams.get("s") ?? "";
    for (const page of ["/admin", "/admin/links", "/admin/grades", "/admin/xapi"]) {
      expect((await fetch(`${base}${page}?s=${encodeURIComponent(s)}`)).status).toBe(200);
    }
    const fields = { note: "IAM check", days: "7", request: "iam-check-request-0001" };
    expect((await fetch(`${base}/admin/links?s=${s}`, form(fields))).status).toBe(201);
    // The same form again: the conditional REGLINKREQ put fails, no second link.
    expect((await fetch(`${base}/admin/links?s=${s}`, form(fields))).status).toBe(200);
    const [link] = await tool.deps.registrationLinks.list(Math.floor(Date.now() / 1000));
    const removed = await fetch(`${base}/admin/links/remove?s=${s}`, {
      ...form({ id: link?.id ?? "" }),
      redirect: "manual",
    });
    expect(removed.status).toBe(303);
    expect((await fetch(`${base}/admin/sign-out?s=${s}`, form({}))).status).toBe(200);

    const requests = requestsOf(rec.calls());
    const actions = new Set(requests.map((r) => r.action));
    for (const op of ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"])
      expect(actions).toContain(op);
    expect(has(requests, "PutItem", (k) => k.startsWith("REGLINKREQ#"))).toBe(true);
    expect(has(requests, "UpdateItem", (k) => k === "TOOLSECRET")).toBe(true);
    expect(refusedByLists(TABLE_ACCESS.admin, requests)).toEqual([]);
    expect(refusedByPolicies(stack.admin, requests)).toEqual([]);
    // What the web function may not do, the admin flows did: the split is a real one.
    expect(refusedByLists(TABLE_ACCESS.web, requests)).not.toEqual([]);
    expect(refusedByPolicies(stack.web, requests)).not.toEqual([]);
  });

  it("the forwarder's sweep: due statements to the LRS, and an unreadable row deferred", async () => {
    expect((await launch({ platformUrl: platform.url, course: "2", user: "candidate" })).status).toBe(303);
    const past = new Date(Date.now() - 3_600_000).toISOString();
    // A row the schema refuses (no body, no status), due first in the route's pending queue.
    await aws.doc.send(
      new PutCommand({
        TableName: aws.tableName,
        Item: {
          pk: "OUTBOX#iam-unreadable",
          sk: `ROUTE#${routeId}`,
          gsi1pk: `OUTBOX#${routeId}#pending`,
          gsi1sk: `${past}#iam-unreadable`,
          kind: "xapi-outbox",
        },
      }),
    );
    rec.reset();
    // As the Forwarder function composes itself (its own client, through the recorder), quiet.
    const deps = await forwarderDepsFromEnv({
      TABLE_NAME: aws.tableName,
      XAPI_CREDENTIAL_KEY: Buffer.from(credentialKey).toString("base64url"),
      DYNAMODB_ENDPOINT: rec.endpoint,
    });
    // The Forwarder logs the unreadable row (JSON on stdout): kept out of the test output.
    const logged: string[] = [];
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation((line) => {
      logged.push(String(line));
      return true;
    });
    let report: Awaited<ReturnType<ReturnType<typeof createSweepHandler>>>;
    try {
      report = await createSweepHandler(() => ({ ...deps, onEvent: () => {} }))();
    } finally {
      stdout.mockRestore();
    }
    expect(
      logged.some((l) => l.includes("store.unreadable_row") && l.includes("OUTBOX#iam-unreadable")),
    ).toBe(true);
    expect(report.delivered).toBeGreaterThan(0);
    expect(lrs.statements.all().length).toBeGreaterThan(0);

    const requests = requestsOf(rec.calls());
    // Every read the sweep makes, and its writes: delivered (BatchWriteItem), the deferral.
    expect(has(requests, "Query", (k) => k === "LRSROUTES", true)).toBe(true);
    expect(has(requests, "GetItem", (k) => k.startsWith("LRSROUTE#"))).toBe(true);
    expect(has(requests, "Query", (k) => k === `OUTBOX#${routeId}#pending`, true)).toBe(true);
    expect(has(requests, "BatchWriteItem", (k) => k.startsWith("OUTBOX#"))).toBe(true);
    expect(
      requests.filter((r) => r.action === "UpdateItem" && r.leadingKeys[0] === "OUTBOX#iam-unreadable"),
    ).toHaveLength(1);
    expect(refusedByLists(TABLE_ACCESS.forwarder, requests)).toEqual([]);
    expect(refusedByPolicies(stack.forwarderSweep, requests)).toEqual([]);
  });

  it("the forwarder's stream handler: new outbox items from a launch, delivered", async () => {
    expect((await launch({ platformUrl: platform.url, course: "2", user: "tutor" })).status).toBe(303);
    // The stream's NEW_IMAGE of each pending item, as DynamoDB Streams hands it over.
    const out = await aws.client.send(
      new QueryCommand({
        TableName: aws.tableName,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :g",
        ExpressionAttributeValues: { ":g": { S: `OUTBOX#${routeId}#pending` } },
      }),
    );
    const images = (out.Items ?? []).filter((i) => i.status?.S === "pending");
    expect(images.length).toBeGreaterThan(0);
    const event = {
      Records: images.map((image, n) => ({
        eventID: `e${n}`,
        eventName: "INSERT",
        dynamodb: { NewImage: image, SequenceNumber: String(100 + n) },
      })),
    } as unknown as DynamoDBStreamEvent;
    const before = lrs.statements.all().length;
    rec.reset();
    const deps = await forwarderDepsFromEnv({
      TABLE_NAME: aws.tableName,
      XAPI_CREDENTIAL_KEY: Buffer.from(credentialKey).toString("base64url"),
      DYNAMODB_ENDPOINT: rec.endpoint,
    });
    const result = await createStreamHandler(() => ({ ...deps, onEvent: () => {} }))(event);
    expect(result.batchItemFailures).toEqual([]);
    expect(lrs.statements.all().length).toBeGreaterThan(before);

    const requests = requestsOf(rec.calls());
    expect(has(requests, "GetItem", (k) => k.startsWith("LRSROUTE#"))).toBe(true);
    expect(has(requests, "BatchWriteItem", (k) => k.startsWith("OUTBOX#"))).toBe(true);
    expect(refusedByLists(TABLE_ACCESS.forwarder, requests)).toEqual([]);
    expect(refusedByPolicies(stack.forwarder, requests)).toEqual([]);
  });

  it("grade delivery: a score to the gradebook, a job parked, an unreadable job deferred", async () => {
    const graded = findActivity("module-standards");
    if (!graded?.grading) throw new Error("no graded activity in the catalogue");
    const course = {
      issuer: platform.url,
      clientId: platform.platform.tool.clientId,
      deploymentId: platform.platform.tool.deploymentId,
      contextId: "2",
    };
    const userId = platform.platform.directory.user("candidate")?.id ?? "";
    const score = {
      userId,
      activityId: graded.id,
      scoreGiven: 7,
      scoreMaximum: graded.grading.scoreMaximum,
      label: graded.grading.label,
      timestamp: new Date(Date.now() - 60_000).toISOString(),
    };
    // One that delivers, and one whose LMS registration is gone (parked).
    const removed = { ...course, issuer: "https://removed.lms.example" };
    await enqueueGrades(aws, gradeJob(course, score), gradeJob(removed, score));
    const past = new Date(Date.now() - 3_600_000).toISOString();
    const scope = courseScopeKey(course);
    await aws.doc.send(
      new PutCommand({
        TableName: aws.tableName,
        Item: {
          pk: scope,
          sk: "GRADE#iam#unreadable",
          gsi1pk: "GRADES#pending",
          gsi1sk: `${past}#iam-unreadable`,
          kind: "grade-job",
        },
      }),
    );
    // As the Grades function composes itself, on a client that goes through the recorder.
    const { doc, client } = createDynamoClients({ endpoint: rec.endpoint });
    try {
      rec.reset();
      const signer = new StoredKeySigner(new DynamoToolKeyStore(doc, aws.tableName));
      const report = await deliverDueGrades(
        gradeDeliveryDeps(doc, aws.tableName, signer, { backoffMs: 10 }),
        50,
      );
      expect(report).toMatchObject({ delivered: 1, parked: 1 });
      const calls = rec.calls();
      const requests = requestsOf(calls);
      // Its reads: the queue, the registrations, the course's services and links, the keys.
      expect(has(requests, "Query", (k) => k === "GRADES#pending", true)).toBe(true);
      expect(has(requests, "GetItem", (k) => k === `PLATFORM#${course.issuer}`)).toBe(true);
      expect(has(requests, "GetItem", (k) => k === `PLATFORM#${removed.issuer}`)).toBe(true);
      expect(has(requests, "GetItem", (k) => k === scope)).toBe(true);
      expect(has(requests, "Query", (k) => k === "TOOLKEY")).toBe(true);
      // Its writes: each job updated in its course's partition, the unreadable one deferred.
      expect(has(requests, "UpdateItem", (k) => k === courseScopeKey(removed))).toBe(true);
      const deferral = calls.filter(
        (c) => c.op === "UpdateItem" && JSON.stringify(c.body.Key).includes("GRADE#iam#unreadable"),
      );
      expect(deferral).toHaveLength(1);
      expect(refusedByLists(TABLE_ACCESS.grades, requests)).toEqual([]);
      expect(refusedByPolicies(stack.grades, requests)).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it("grade delivery's signer makes the first signing key when none exists (PutItem TOOLKEY)", async () => {
    // A table of its own, with no key yet, as a fresh deployment's.
    const fresh = "iam-first-key";
    await aws.client.send(new CreateTableCommand(tableDefinition(fresh)));
    const { doc, client } = createDynamoClients({ endpoint: rec.endpoint });
    try {
      rec.reset();
      const signer = new StoredKeySigner(new DynamoToolKeyStore(doc, fresh));
      expect(await signer.sign({ iss: "iam-check" })).toMatch(/^ey/);
      const requests = requestsOf(rec.calls());
      expect(has(requests, "PutItem", (k) => k === "TOOLKEY")).toBe(true);
      expect(refusedByLists(TABLE_ACCESS.grades, requests)).toEqual([]);
      expect(refusedByPolicies(stack.grades, requests)).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it("control: both checks refuse what the grants leave out", () => {
    const key = (pk: string) => ({ pk: { S: pk }, sk: { S: "X" } });
    const query = (gsi1pk: string): RawCall => ({
      op: "Query",
      body: {
        IndexName: "gsi1",
        KeyConditionExpression: "#g = :g",
        ExpressionAttributeNames: { "#g": "gsi1pk" },
        ExpressionAttributeValues: { ":g": { S: gsi1pk } },
      },
    });
    const course = "T#abc#C#def";
    const forwarder: RawCall[] = [
      { op: "GetItem", body: { Key: key(course) } },
      query("REGLINKS"),
      query("GRADES#parked"),
      { op: "UpdateItem", body: { Key: key("PLATFORM#https://lms") } },
      { op: "GetItem", body: { Key: key("TOOLKEY") } },
      { op: "PutItem", body: { Item: key("OUTBOX#s1") } },
    ];
    const grades: RawCall[] = [
      { op: "GetItem", body: { Key: key("TOOLSECRET") } },
      { op: "GetItem", body: { Key: key("REGLINK#abc") } },
      query("OUTBOX#route-1#pending"),
      { op: "PutItem", body: { Item: key(course) } },
      { op: "UpdateItem", body: { Key: key("TOOLKEY") } },
      { op: "DeleteItem", body: { Key: key(course) } },
    ];
    for (const [access, fns, calls] of [
      [TABLE_ACCESS.forwarder, [stack.forwarder, stack.forwarderSweep], forwarder],
      [TABLE_ACCESS.grades, [stack.grades], grades],
    ] as const) {
      for (const call of calls) {
        const requests = authRequests(call);
        expect(refusedByLists(access, requests)).toHaveLength(1);
        for (const fn of fns) expect(refusedByPolicies(fn, requests)).toHaveLength(1);
      }
    }
    // And what the code does is not refused by either (the checks above are not blanket refusals).
    const allowed = { op: "GetItem", body: { Key: key("LRSROUTE#r1") } };
    expect(refusedByLists(TABLE_ACCESS.forwarder, authRequests(allowed))).toEqual([]);
    expect(refusedByPolicies(stack.forwarder, authRequests(allowed))).toEqual([]);
  });
});
