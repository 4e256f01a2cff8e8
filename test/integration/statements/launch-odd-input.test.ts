/**
 * What LMSs really send in a launch, through the launched statement's outbox items on DynamoDB
 * Local and the forwarder to a strict LRS (the LRS double validates like Learning Locker): a
 * Moodle language pack as the locale, an email address the event refuses. Each must still
 * produce a statement the LRS stores.
 */
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchStatements } from "../../../adapters/dynamo/launch-statements.js";
import { DynamoOutboxStore, XapiOutboxWriter } from "../../../adapters/dynamo/outbox.js";
import {
  DEFAULT_DOUBLE_CREDENTIALS,
  type RunningLrsDouble,
  startLrsDouble,
} from "../../../dev/lrs-double/index.js";
import type { Enrolment } from "../../../domain/enrolment.js";
import { silentLogger } from "../../../functions/web/log.js";
import { CLAIM } from "../../../lti-tool/claims.js";
import type { ValidatedLaunch } from "../../../lti-tool/launch.js";
import type { ActorIdentifierType } from "../../../statements/builders.js";
import { forwardEntries } from "../../../statements/forwarder.js";
import { LrsCredentials } from "../../../statements/ports.js";
import { dynamoForTests } from "./local-dynamo.js";

let lrs: RunningLrsDouble;
let db: Awaited<ReturnType<typeof dynamoForTests>>;
beforeAll(async () => {
  [lrs, db] = await Promise.all([startLrsDouble(), dynamoForTests()]);
});
afterAll(async () => {
  await Promise.all([lrs?.stop(), db?.stop()]);
});

const tenant = { issuer: "https://moodle.school.example", clientId: "c", deploymentId: "1" };

/** One launch's statement, queued and forwarded to the double: what it stored, and what was parked. */
async function launchThrough(
  user: { locale?: string; email?: string; name?: string },
  actorIdentifier: ActorIdentifierType = "account",
) {
  // A route of its own per launch: each run reads only its own statements from the outbox.
  const routeId = `r-${Math.random().toString(36).slice(2)}`;
  const route = {
    routeId,
    scope: { issuer: tenant.issuer, clientId: tenant.clientId },
    name: "double",
    endpoint: lrs.endpoint,
    enabled: true,
    createdAt: "",
  };
  const writer = new XapiOutboxWriter(
    { resolveTenant: async () => ({ actorIdentifier, routes: [route] }) },
    { tableName: db.tableName, emitter: "hlta-test/1" },
  );
  const errors: string[] = [];
  const log = { ...silentLogger, error: (event: string) => errors.push(event) };
  const stateId = `s-${Math.random().toString(36).slice(2)}`;
  const launch = {
    claims: { [CLAIM.messageType]: "LtiResourceLinkRequest", [CLAIM.resourceLink]: { id: "rl1" } },
    tenant,
    course: { ...tenant, contextId: "ctx1" },
    user: { sub: "u7", ltiRoles: [], role: "candidate", ...user },
    loginState: { stateId },
  } as unknown as ValidatedLaunch;
  const enrolment = {
    registration: "0b0f6a4e-7d52-5c1e-9a51-3f1c2b0d9e10",
    lastLaunchAt: "2026-11-24T10:00:00.000Z",
  } as unknown as Enrolment;
  const items = await launchStatements(writer, log)(launch, enrolment, "home");
  if (items.length > 0) await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
  const outbox = new DynamoOutboxStore(db.doc, db.tableName);
  const before = lrs.statements.all().length;
  await forwardEntries(routeId, await outbox.listDue(routeId, new Date("2030-01-01"), 10), {
    outbox,
    routes: {
      listRoutes: async () => [route],
      getRouteWithCredentials: async () => ({
        ...route,
        credentials: new LrsCredentials(
          DEFAULT_DOUBLE_CREDENTIALS.username,
          DEFAULT_DOUBLE_CREDENTIALS.password,
        ),
      }),
    },
  });
  const stored = lrs.statements
    .all()
    .slice(before)
    .map((s) => s.statement as { context?: { language?: string }; actor: Record<string, unknown> });
  return { queued: items.length, stored, parked: (await outbox.backlog(routeId)).parked, errors };
}

describe("the launched statement, with what LMSs really send", () => {
  it.each([
    ["en_us_k12", "en-US"],
    ["en_GB", "en-GB"],
    ["en-a", "en"],
    ["cy", "cy"],
    ["zh_cn", "zh-CN"],
    ["x", undefined],
  ])("reaches a strict LRS with the locale %s, as the language %s", async (locale, language) => {
    const run = await launchThrough({ locale });
    expect(run.errors).toEqual([]);
    expect(run.parked).toBe(0);
    expect(run.stored).toHaveLength(1);
    expect(run.stored[0]?.context?.language).toBe(language ?? "en");
  });

  it.each(["siân.jones@ysgol.cymru", "b&q@shop.example.uk", "a.@school.example"])(
    "reaches the LRS when the LMS sends the email %s, which the event refuses",
    async (email) => {
      const run = await launchThrough({ email, name: "Sam Jones" }, "mbox");
      expect(run.errors).toEqual([]);
      expect(run.stored).toHaveLength(1);
      expect(run.stored[0]?.actor).toMatchObject({ account: { name: "u7" } });
      expect(run.stored[0]?.actor).not.toHaveProperty("mbox");
    },
  );

  it("sends names as Unicode: cut at 500 without halving an emoji, lone surrogates replaced", async () => {
    const run = await launchThrough({ name: `${"a".repeat(499)}😀${"b".repeat(400)}` });
    expect(run.stored[0]?.actor).toMatchObject({ name: "a".repeat(499) });
    const lone = await launchThrough({ name: "Sam \ud83d Jones" });
    expect(lone.stored[0]?.actor).toMatchObject({ name: "Sam \uFFFD Jones" });
  });

  it("names no one when the tenant asks for hashed emails, and names the person otherwise", async () => {
    const hashed = await launchThrough({ email: "sam@school.example", name: "Sam Jones" }, "mbox_sha1sum");
    expect(hashed.stored[0]?.actor).toHaveProperty("mbox_sha1sum");
    expect(hashed.stored[0]?.actor).not.toHaveProperty("name");
    const account = await launchThrough({ email: "sam@school.example", name: "Sam Jones" }, "account");
    expect(account.stored[0]?.actor).toMatchObject({ name: "Sam Jones", account: { name: "u7" } });
  });
});
