import { type CancellationReason, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { DynamoCourseServicesStore } from "../../../adapters/dynamo/course-services.js";
import { DynamoEnrolmentStore } from "../../../adapters/dynamo/enrolments.js";
import { DynamoLaunchRecorder } from "../../../adapters/dynamo/launch-recorder.js";
import { DynamoUsedLoginStore } from "../../../adapters/dynamo/login-states.js";
import { keys, TABLE_KEYS } from "../../../adapters/dynamo/table.js";
import { ConflictError } from "../../../domain/errors.js";
import { courseScopeKey } from "../../../domain/tenancy.js";
import { NonceReplayedError, StateReplayedError } from "../../../lti-tool/errors.js";
import { CLIENT_ID, checkedLaunch, ISSUER } from "../../support/test-platform.js";

const TABLE = "hlta";
const AT = new Date("2026-11-24T09:00:00.000Z");
const ddb = mockClient(DynamoDBDocumentClient);

/** A checked candidate launch, its login sealed under `stateId`. */
const launchOf = (stateId = "state-A", nonce = "nonce-1") =>
  checkedLaunch({
    nonce,
    issuer: ISSUER,
    clientId: CLIENT_ID,
    targetLinkUri: "https://tool.test/app",
    bindingHash: "hash",
    binding: "cookie",
    issuedAt: 1_795_000_000,
    expiresAt: 1_795_000_300,
    stateId,
  });

function recorder(pause = vi.fn(async (_ms: number) => {})) {
  const doc = ddb as unknown as DynamoDBDocumentClient;
  return {
    pause,
    recorder: new DynamoLaunchRecorder(
      new DynamoEnrolmentStore(doc, TABLE),
      new DynamoCourseServicesStore(doc, TABLE),
      new DynamoUsedLoginStore(doc, TABLE),
      async () => [],
      { pause, attempts: 3 },
    ),
  };
}

const cancelled = (reasons: CancellationReason[]) =>
  new TransactionCanceledException({
    message: "Transaction cancelled",
    $metadata: {},
    CancellationReasons: reasons,
  });

/** The cancellation of a launch whose login was claimed by `stateId`: DynamoDB returns that claim. */
const usedBy = (stateId: string) =>
  cancelled([
    { Code: "None" },
    {
      Code: "ConditionalCheckFailed",
      Item: { kind: { S: "used-login" }, stateId: { S: stateId } },
    },
  ]);

beforeEach(() => ddb.reset());

describe("DynamoLaunchRecorder: the launch and its login's single use in one transaction", () => {
  it("sends one transaction: the enrolment, then the claim of the nonce, conditional on it being new", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const launch = launchOf();
    await recorder().recorder.recordLaunch(launch, AT, "module-standards");
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    const items = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items[0]?.Update?.Key).toEqual(keys.enrolment(courseScopeKey(launch.course), "user-1"));
    expect(items[1]?.Put).toMatchObject({
      TableName: TABLE,
      Item: {
        ...keys.usedNonce(ISSUER, "nonce-1"),
        stateId: "state-A",
        [TABLE_KEYS.ttl]: launch.loginState.expiresAt + 60,
      },
      ConditionExpression: "attribute_not_exists(#pk)",
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    });
  });

  it("refuses the same state again as a replayed state, and the nonce under another state as a replayed nonce", async () => {
    const { recorder: r } = recorder();
    ddb.on(TransactWriteCommand).rejectsOnce(usedBy("state-A")).rejectsOnce(usedBy("state-B"));
    await expect(r.recordLaunch(launchOf("state-A"), AT, "a")).rejects.toBeInstanceOf(StateReplayedError);
    await expect(r.recordLaunch(launchOf("state-A"), AT, "a")).rejects.toBeInstanceOf(NonceReplayedError);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it("runs the transaction again, after a growing pause, when another held its items or it was throttled", async () => {
    const { recorder: r, pause } = recorder();
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled([{ Code: "TransactionConflict" }, { Code: "None" }]))
      .rejectsOnce(cancelled([{ Code: "None" }, { Code: "ThrottlingError" }]))
      .resolves({});
    const enrolment = await r.recordLaunch(launchOf(), AT, "a");
    expect(enrolment).toMatchObject({ userId: "user-1", role: "candidate" });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(3);
    const [first, second] = pause.mock.calls.map(([ms]) => ms);
    expect(first).toBeGreaterThanOrEqual(10);
    expect(first).toBeLessThanOrEqual(20);
    expect(second).toBeGreaterThanOrEqual(20);
    expect(second).toBeLessThanOrEqual(40);
  });

  it("refuses a replay found on a retry: a conflict, then the claim already there", async () => {
    const { recorder: r } = recorder();
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled([{ Code: "TransactionConflict" }, { Code: "None" }]))
      .rejectsOnce(usedBy("state-A"));
    await expect(r.recordLaunch(launchOf("state-A"), AT, "a")).rejects.toBeInstanceOf(StateReplayedError);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it("gives up on conflicts after its attempts with a ConflictError, not a 500", async () => {
    const { recorder: r } = recorder();
    ddb.on(TransactWriteCommand).rejects(cancelled([{ Code: "TransactionConflict" }, { Code: "None" }]));
    const error = await r.recordLaunch(launchOf(), AT, "a").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).status).toBe(409);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  it("passes any other cancellation on as it came (not as a replay)", async () => {
    const { recorder: r, pause } = recorder();
    // An outbox item's condition failing, even at the claim's place, is not the claim's.
    const other = cancelled([{ Code: "None" }, { Code: "ConditionalCheckFailed" }, { Code: "None" }]);
    ddb.on(TransactWriteCommand).rejects(other);
    await expect(r.recordLaunch(launchOf(), AT, "a")).rejects.toBe(other);
    expect(pause).not.toHaveBeenCalled();
  });
});
