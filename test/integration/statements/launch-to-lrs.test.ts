import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoLrsRouteStore } from "../../../adapters/dynamo/lrs-routes.js";
import { DynamoOutboxStore } from "../../../adapters/dynamo/outbox.js";
import {
  DEFAULT_DOUBLE_CREDENTIALS,
  type RunningLrsDouble,
  startLrsDouble,
} from "../../../dev/lrs-double/index.js";
import { launch } from "../../../dev/platform/driver.js";
import type { RunningDevPlatform } from "../../../dev/platform/index.js";
import { createAesGcmCipher } from "../../../statements/credential-cipher.js";
import { startForwarderLoop } from "../../../statements/forwarder.js";
import { type Stack, startPlatform, startStack } from "../../support/stack.js";

let stack: Stack;
let platform: RunningDevPlatform;
let lrs: RunningLrsDouble;
const cipher = createAesGcmCipher({ current: { kid: "test-1", key: new Uint8Array(32).fill(3) } });

beforeAll(async () => {
  lrs = await startLrsDouble();
  stack = await startStack({ xapiCipher: cipher });
  platform = await startPlatform(stack);
  const reg = platform.platform.registration();
  await new DynamoLrsRouteStore(stack.aws.doc, stack.aws.tableName, cipher).saveRoute({
    scope: { issuer: reg.issuer, clientId: reg.clientId },
    name: "double",
    endpoint: lrs.endpoint,
    ...DEFAULT_DOUBLE_CREDENTIALS,
  });
});
afterAll(async () => {
  await platform?.stop();
  await stack?.stop();
  await lrs?.stop();
});

describe("a launch reaches the provider's LRS", () => {
  it("writes the launched statement with the launch and delivers it, once", async () => {
    const result = await launch({ platformUrl: platform.url, course: "2", user: "candidate" });
    expect(result.status).toBe(303);
    const stop = startForwarderLoop({
      intervalMs: 50,
      outbox: new DynamoOutboxStore(stack.aws.doc, stack.aws.tableName),
      routes: new DynamoLrsRouteStore(stack.aws.doc, stack.aws.tableName, cipher),
    });
    const deadline = Date.now() + 15_000;
    while (lrs.statements.all().length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await stop();
    const received = lrs.statements.all();
    expect(received).toHaveLength(1);
    const statement = received[0]?.statement as {
      verb: { id: string };
      actor: { account: unknown };
      context: { registration: string };
    };
    expect(statement.verb.id).toBe("http://adlnet.gov/expapi/verbs/launched");
    expect(statement.actor.account).toEqual({ homePage: platform.url, name: "4" });
    expect(statement.context.registration).toMatch(/^[0-9a-f-]{36}$/);
  });
});
