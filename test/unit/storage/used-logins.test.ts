import { ConditionalCheckFailedException, type PutItemCommandInput } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { DynamoUsedLoginStore } from "../../../adapters/dynamo/login-states.js";
import { keys } from "../../../adapters/dynamo/table.js";

const TABLE = "hlta";
const ddb = mockClient(DynamoDBDocumentClient);
const store = () => new DynamoUsedLoginStore(ddb as unknown as DynamoDBDocumentClient, TABLE);

/** DynamoDB's answer to a claim whose nonce was there: the old item, in AttributeValue shape. */
const alreadyThere = (item: Record<string, { S: string }>) =>
  new ConditionalCheckFailedException({
    message: "The conditional request failed",
    $metadata: {},
    Item: item,
  });

/** The attempt id a claim wrote (what the item DynamoDB keeps would carry). */
const attemptOf = (input: unknown) => (input as { Item: { attempt: string } }).Item.attempt;

beforeEach(() => ddb.reset());

describe("DynamoUsedLoginStore: a login claimed on its own", () => {
  it("puts the claim once, conditional on the nonce being new, with an attempt id of its own", async () => {
    ddb.on(PutCommand).resolves({});
    await expect(store().claim("https://lms.test", "nonce-1", "state-A", 1_795_000_360)).resolves.toEqual({});
    await store().claim("https://lms.test", "nonce-2", "state-B", 1_795_000_360);
    const [first, second] = ddb.commandCalls(PutCommand).map((call) => call.args[0].input);
    expect(first).toMatchObject({
      TableName: TABLE,
      Item: { ...keys.usedNonce("https://lms.test", "nonce-1"), kind: "used-login", stateId: "state-A" },
      ConditionExpression: "attribute_not_exists(#pk)",
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    });
    expect(attemptOf(first)).toMatch(/^[0-9a-f-]{36}$/);
    expect(attemptOf(second)).not.toBe(attemptOf(first));
  });

  it("takes its own earlier write, met again by the SDK's retry, as done rather than as a replay", async () => {
    ddb.on(PutCommand).callsFake((input: PutItemCommandInput) => {
      throw alreadyThere({ stateId: { S: "state-A" }, attempt: { S: attemptOf(input) } });
    });
    await expect(store().claim("https://lms.test", "nonce-1", "state-A", 1_795_000_360)).resolves.toEqual({});
  });

  it("answers the state that claimed the nonce before when another request did", async () => {
    ddb
      .on(PutCommand)
      .rejects(alreadyThere({ stateId: { S: "state-A" }, attempt: { S: "another-request" } }));
    await expect(store().claim("https://lms.test", "nonce-1", "state-A", 1_795_000_360)).resolves.toEqual({
      previous: "state-A",
    });
    // A claim written before attempt ids existed has none: still a replay.
    ddb.on(PutCommand).rejects(alreadyThere({ stateId: { S: "state-Z" } }));
    await expect(store().claim("https://lms.test", "nonce-1", "state-B", 1_795_000_360)).resolves.toEqual({
      previous: "state-Z",
    });
  });

  it("passes any other failure on as it came", async () => {
    ddb.on(PutCommand).rejects(new Error("socket hang up"));
    await expect(store().claim("https://lms.test", "nonce-1", "state-A", 1_795_000_360)).rejects.toThrow(
      "socket hang up",
    );
  });
});
