import {
  type CancellationReason,
  ConditionalCheckFailedException,
  TransactionCanceledException,
  TransactionConflictException,
} from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { DynamoCourseServicesStore } from "../../../adapters/dynamo/course-services.js";
import {
  DynamoEnrolmentStore,
  ENROLMENT_MEMO_MS,
  type TransactItem,
} from "../../../adapters/dynamo/enrolments.js";
import { DynamoLaunchRecorder } from "../../../adapters/dynamo/launch-recorder.js";
import { DynamoUsedLoginStore } from "../../../adapters/dynamo/login-states.js";
import { keys, TABLE_KEYS } from "../../../adapters/dynamo/table.js";
import { ConflictError } from "../../../domain/errors.js";
import { courseScopeKey } from "../../../domain/tenancy.js";
import { NonceReplayedError, StateReplayedError } from "../../../lti-tool/errors.js";
import { CLIENT_ID, checkedLaunch, ISSUER } from "../../support/test-platform.js";

const TABLE = "hlta";
const INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor";
const AT = new Date("2026-11-24T09:00:00.000Z");
const ddb = mockClient(DynamoDBDocumentClient);

/** A checked candidate launch, its login sealed under `stateId`. */
const launchOf = (stateId = "state-A", nonce = "nonce-1", user: { name?: string } = {}) =>
  checkedLaunch(
    {
      nonce,
      issuer: ISSUER,
      clientId: CLIENT_ID,
      targetLinkUri: "https://tool.test/app",
      bindingHash: "hash",
      binding: "cookie",
      issuedAt: 1_795_000_000,
      expiresAt: 1_795_000_300,
      stateId,
    },
    user,
  );

function recorder(
  pause = vi.fn(async (_ms: number) => {}),
  sideEffects = async (): Promise<TransactItem[]> => [],
) {
  const doc = ddb as unknown as DynamoDBDocumentClient;
  return {
    pause,
    recorder: new DynamoLaunchRecorder(
      new DynamoEnrolmentStore(doc, TABLE),
      new DynamoCourseServicesStore(doc, TABLE),
      new DynamoUsedLoginStore(doc, TABLE),
      sideEffects,
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

/** The claim of `launch`'s login: its nonce's item, kept past the token's expiry, if it is new. */
const claimOf = (launch: ReturnType<typeof launchOf>) => ({
  TableName: TABLE,
  Item: {
    ...keys.usedNonce(ISSUER, launch.loginState.nonce),
    stateId: launch.loginState.stateId,
    [TABLE_KEYS.ttl]: launch.loginState.expiresAt + 60,
  },
  ConditionExpression: "attribute_not_exists(#pk)",
  ReturnValuesOnConditionCheckFailure: "ALL_OLD",
});

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
    expect(items[1]?.Put).toMatchObject(claimOf(launch));
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

describe("DynamoLaunchRecorder: an enrolment this instance wrote minutes ago is not written again", () => {
  const later = (ms: number) => new Date(AT.getTime() + ms);
  const enrolmentKey = keys.enrolment(courseScopeKey(launchOf().course), "user-1");
  /** Whether the n-th transaction sent updates the enrolment. */
  const updatesEnrolment = (n: number) =>
    (ddb.commandCalls(TransactWriteCommand)[n]?.args[0].input.TransactItems ?? []).some(
      (i) => JSON.stringify(i.Update?.Key) === JSON.stringify(enrolmentKey),
    );

  it("spends the next launch's login with one conditional put while the person is unchanged", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    const { recorder: r } = recorder();
    await r.recordLaunch(launchOf("state-A", "nonce-1"), AT, "a");
    const second = launchOf("state-B", "nonce-2");
    const enrolment = await r.recordLaunch(second, later(30_000), "a");
    expect(enrolment.lastLaunchAt).toBe(later(30_000).toISOString());
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(1);
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject(claimOf(second));
  });

  it("refuses a replay met by that put, as a replayed state or nonce", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const claimedBy = (stateId: string) =>
      new ConditionalCheckFailedException({
        message: "The conditional request failed",
        $metadata: {},
        Item: { kind: { S: "used-login" }, stateId: { S: stateId } },
      });
    ddb.on(PutCommand).rejectsOnce(claimedBy("state-B")).rejectsOnce(claimedBy("state-X"));
    const { recorder: r } = recorder();
    await r.recordLaunch(launchOf("state-A", "nonce-1"), AT, "a");
    await expect(r.recordLaunch(launchOf("state-B", "nonce-2"), later(10_000), "a")).rejects.toBeInstanceOf(
      StateReplayedError,
    );
    await expect(r.recordLaunch(launchOf("state-B", "nonce-2"), later(20_000), "a")).rejects.toBeInstanceOf(
      NonceReplayedError,
    );
    expect(ddb.commandCalls(PutCommand)).toHaveLength(2);
  });

  it("writes the enrolment again when the person changed, after ENROLMENT_MEMO_MS, and on a new UTC day", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    const { recorder: r } = recorder();
    const evening = new Date("2026-11-24T23:50:00.000Z");
    const at = (ms: number) => new Date(evening.getTime() + ms);
    await r.recordLaunch(launchOf("s1", "n1", { name: "Ann" }), at(0), "a");
    expect(updatesEnrolment(0)).toBe(true);
    // Her name changed in the LMS: written, and remembered from then.
    await r.recordLaunch(launchOf("s2", "n2", { name: "Ann Smith" }), at(10_000), "a");
    expect(updatesEnrolment(1)).toBe(true);
    await r.recordLaunch(launchOf("s3", "n3", { name: "Ann Smith" }), at(20_000), "a");
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(1);
    // Past midnight (UTC), well inside ENROLMENT_MEMO_MS of the last write: the date shown changes.
    await r.recordLaunch(launchOf("s4", "n4", { name: "Ann Smith" }), at(10 * 60_000 + 5_000), "a");
    expect(updatesEnrolment(2)).toBe(true);
    // Then ENROLMENT_MEMO_MS after that write: written once more.
    await r.recordLaunch(
      launchOf("s5", "n5", { name: "Ann Smith" }),
      at(10 * 60_000 + 5_000 + ENROLMENT_MEMO_MS - 1),
      "a",
    );
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(3);
    await r.recordLaunch(
      launchOf("s6", "n6", { name: "Ann Smith" }),
      at(10 * 60_000 + 5_000 + ENROLMENT_MEMO_MS),
      "a",
    );
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(4);
    expect(updatesEnrolment(3)).toBe(true);
  });

  it("does not remember a write that failed: the next launch writes the enrolment", async () => {
    const failure = new Error("DynamoDB is unreachable");
    ddb.on(TransactWriteCommand).rejectsOnce(failure).resolves({});
    const { recorder: r } = recorder();
    await expect(r.recordLaunch(launchOf("state-A", "nonce-1"), AT, "a")).rejects.toBe(failure);
    await r.recordLaunch(launchOf("state-B", "nonce-2"), later(10_000), "a");
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
    expect(updatesEnrolment(1)).toBe(true);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it("writes a tutor's and an administrator's enrolment at every launch (they may switch views)", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    const { recorder: r } = recorder();
    const as = (role: "tutor" | "administrator", stateId: string, nonce: string) => {
      const l = launchOf(stateId, nonce);
      return { ...l, user: { ...l.user, role, ltiRoles: [INSTRUCTOR] } };
    };
    await r.recordLaunch(as("tutor", "s1", "n1"), AT, "a");
    await r.recordLaunch(as("tutor", "s2", "n2"), later(10_000), "a");
    await r.recordLaunch(as("administrator", "s3", "n3"), later(20_000), "a");
    await r.recordLaunch(as("administrator", "s4", "n4"), later(30_000), "a");
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect([0, 1, 2, 3].map(updatesEnrolment)).toEqual([true, true, true, true]);
  });

  it("remembers per course and tenant: the same person elsewhere is written", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    const { recorder: r } = recorder();
    const first = launchOf("s1", "n1");
    await r.recordLaunch(first, AT, "a");
    const inCourse = (stateId: string, nonce: string, course: Partial<typeof first.course>) => {
      const l = launchOf(stateId, nonce);
      return { ...l, course: { ...l.course, ...course } };
    };
    await r.recordLaunch(inCourse("s2", "n2", { contextId: "course-2" }), later(10_000), "a");
    await r.recordLaunch(inCourse("s3", "n3", { deploymentId: "2" }), later(20_000), "a");
    await r.recordLaunch(inCourse("s4", "n4", { issuer: "https://other-lms.test" }), later(30_000), "a");
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(4);
    const keysWritten = ddb
      .commandCalls(TransactWriteCommand)
      .map((c) => JSON.stringify(c.args[0].input.TransactItems?.[0]?.Update?.Key));
    expect(new Set(keysWritten).size).toBe(4);
  });

  it("writes the enrolment when the clock went back past the instance's last write", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    const { recorder: r } = recorder();
    await r.recordLaunch(launchOf("s1", "n1"), AT, "a");
    await r.recordLaunch(launchOf("s2", "n2"), later(-1_000), "a");
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(updatesEnrolment(1)).toBe(true);
  });

  it("runs the lone claim again on a conflict or throttling, then answers 409, not a 500", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const conflict = new TransactionConflictException({
      message: "Transaction is ongoing for the item",
      $metadata: {},
    });
    const throttled = Object.assign(new Error("Rate of requests exceeds the allowed throughput."), {
      name: "ThrottlingException",
    });
    ddb.on(PutCommand).rejectsOnce(conflict).rejectsOnce(throttled).resolves({});
    const { recorder: r, pause } = recorder();
    await r.recordLaunch(launchOf("s1", "n1"), AT, "a");
    await r.recordLaunch(launchOf("s2", "n2"), later(10_000), "a");
    expect(ddb.commandCalls(PutCommand)).toHaveLength(3);
    expect(pause).toHaveBeenCalledTimes(2);

    ddb.on(PutCommand).rejects(conflict);
    const error = await r.recordLaunch(launchOf("s3", "n3"), later(20_000), "a").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(6);
  });

  it("still writes the launch's other items in one transaction with the claim, without the enrolment", async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const statement: TransactItem = { Put: { TableName: TABLE, Item: { pk: "OUTBOX#1", sk: "S#1" } } };
    const { recorder: r } = recorder(undefined, async () => [statement]);
    await r.recordLaunch(launchOf("state-A", "nonce-1"), AT, "a");
    await r.recordLaunch(launchOf("state-B", "nonce-2"), later(10_000), "a");
    const items = ddb.commandCalls(TransactWriteCommand)[1]?.args[0].input.TransactItems ?? [];
    expect(items.map((i) => (i.Put ? i.Put.Item?.pk : "update"))).toEqual([
      keys.usedNonce(ISSUER, "nonce-2").pk,
      "OUTBOX#1",
    ]);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });
});
