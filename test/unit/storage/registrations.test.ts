import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { DynamoRegistrationStore } from "../../../adapters/dynamo/registrations.js";
import { keys } from "../../../adapters/dynamo/table.js";
import type { PlatformRegistration } from "../../../lti-tool/ports.js";
import { ClientIdInUseError } from "../../../lti-tool/registration.js";

const TABLE = "hlta";
const ddb = mockClient(DynamoDBDocumentClient);
const store = () => new DynamoRegistrationStore(ddb as unknown as DynamoDBDocumentClient, TABLE);
const platform: PlatformRegistration = {
  issuer: "https://moodle.test",
  clientId: "c1",
  authUrl: "https://moodle.test/mod/lti/auth.php",
  tokenUrl: "https://moodle.test/mod/lti/token.php",
  jwksUrl: "https://moodle.test/mod/lti/certs.php",
  createdAt: "2026-11-24T00:00:00.000Z",
};

beforeEach(() => ddb.reset());

describe("DynamoRegistrationStore: saving a registration", () => {
  it("writes the platform and every deployment in one transaction, each deployment once", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await store().savePlatform(platform, ["1", "2", "1"]);
    const calls = ddb.commandCalls(TransactWriteCommand);
    expect(calls).toHaveLength(1);
    const items = calls[0]?.args[0].input.TransactItems ?? [];
    expect(items.map((i) => i.Put?.Item?.sk ?? i.Update?.Key?.sk)).toEqual([
      keys.platform(platform.issuer, "c1").sk,
      keys.deployment(platform.issuer, "c1", "1").sk,
      keys.deployment(platform.issuer, "c1", "2").sk,
    ]);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("saves nothing of a registration whose write fails, and says so", async () => {
    const cancelled = new TransactionCanceledException({ message: "cancelled", $metadata: {} });
    ddb.on(TransactWriteCommand).rejects(cancelled);
    await expect(store().savePlatform(platform, ["1", "2"])).rejects.toBe(cancelled);
    // No write went on its own beside the transaction (which DynamoDB applies all or nothing).
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it("splits more than 99 deployments over transactions of at most 100 items, the platform first", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const ids = Array.from({ length: 150 }, (_, i) => `d${i}`);
    await store().savePlatform(platform, ids);
    const sizes = ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems?.length);
    expect(sizes).toEqual([100, 51]);
    expect(ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[0]?.Put).toBeDefined();
  });

  it("takes the client id for the issuer in the same transaction, when the client id is to be its alone", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    await store().savePlatform(platform, ["1"], { exclusiveClientId: true });
    const [owner, saved] = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(owner?.Put).toMatchObject({
      Item: { ...keys.clientIdOwner("c1"), issuer: platform.issuer },
      ConditionExpression: "attribute_not_exists(#pk) OR issuer = :iss",
      ExpressionAttributeValues: { ":iss": platform.issuer },
    });
    expect(saved?.Put?.Item?.sk).toBe(keys.platform(platform.issuer, "c1").sk);
    // A client id an administrator shares is not taken.
    ddb.reset();
    ddb.on(TransactWriteCommand).resolves({});
    await store().savePlatform(platform, ["1"]);
    const items = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items.map((i) => i.Put?.Item?.pk ?? i.Update?.Key?.pk)).not.toContain(keys.clientIdOwner("c1").pk);
  });

  it("says which issuer holds the client id when another took it first", async () => {
    ddb.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        message: "cancelled",
        $metadata: {},
        CancellationReasons: [
          { Code: "ConditionalCheckFailed", Item: { issuer: { S: "https://first.test" } } },
          { Code: "None" },
          { Code: "None" },
        ],
      }),
    );
    const error = await store()
      .savePlatform(platform, ["1"], { exclusiveClientId: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientIdInUseError);
    expect((error as ClientIdInUseError).heldBy).toEqual(["https://first.test"]);
  });
});
