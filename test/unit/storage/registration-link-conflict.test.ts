/**
 * Two requests of one admin form at the same instant, in AWS: DynamoDB cancels the transaction
 * that meets the other's in flight with the reason TransactionConflict (DynamoDB Local runs
 * transactions one at a time, so it never does; hence a mocked client). That request must end
 * as "sent before", never a 500: it is the one the browser shows after a double click.
 */
import { type CancellationReason, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { DynamoRegistrationLinkStore } from "../../../adapters/dynamo/registration-links.js";
import { createRegistrationLinkOnce } from "../../../lti-tool/registration-links.js";
import { form } from "../../support/app-launch.js";
import { memoryApp } from "../../support/memory-app.js";
import { testPlatform } from "../../support/test-platform.js";

const ddb = mockClient(DynamoDBDocumentClient);
const cancelled = (reasons: CancellationReason[]) =>
  new TransactionCanceledException({
    message: "Transaction cancelled",
    $metadata: {},
    CancellationReasons: reasons,
  });

beforeEach(() => ddb.reset());

/**
 * A store whose first transaction meets the other request's in flight (TransactionConflict)
 * and whose later ones, once that request has committed, fail their condition.
 */
function conflictingStore(): DynamoRegistrationLinkStore {
  ddb
    .on(TransactWriteCommand)
    .rejectsOnce(cancelled([{ Code: "TransactionConflict" }, { Code: "None" }]))
    .rejects(cancelled([{ Code: "ConditionalCheckFailed" }, { Code: "None" }]));
  return new DynamoRegistrationLinkStore(ddb as unknown as DynamoDBDocumentClient, "hlta");
}

describe("a form's two requests whose transactions conflict", () => {
  it("the request that meets the other's transaction in flight is not a 500", async () => {
    const store = conflictingStore();
    await expect(
      createRegistrationLinkOnce(store, { note: "double click", requestId: "form-request-twice-0001" }),
    ).resolves.toBeUndefined();
  });

  it("the admin page answers the conflicting request as a form sent before, not a 500", async () => {
    const store = conflictingStore();
    // The list the "sent before" page shows: nothing listed, as a GSI read just after the other commit may show.
    store.list = async () => [];
    const { app, adminToken } = await memoryApp(await testPlatform(), { registrationLinks: store });
    const s = await adminToken();
    const res = await app.request(
      `/admin/links?s=${encodeURIComponent(s)}`,
      form({ note: "St Mary's Moodle", days: "7", request: "form-request-twice-0002" }),
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("This form was sent before");
  });
});
