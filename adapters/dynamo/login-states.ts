import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { UsedLoginStore } from "../../lti-tool/ports.js";
import type { TransactItem } from "./enrolments.js";
import { keys, TABLE_KEYS } from "./table.js";

/** The `kind` of a used-login item (how a cancelled transaction's reasons name the claim). */
export const USED_LOGIN_KIND = "used-login";

/**
 * The single use of a login (state and nonce together) on one conditional write: DynamoDB
 * decides atomically, so two concurrent launches with the same state cannot both pass. The item
 * expires with the state (TTL); until then a second claim gets the first one's state id back.
 *
 * A claim on its own is one conditional PutItem, which has no idempotency token: when DynamoDB
 * wrote the item but its answer was lost (a timeout, a 500 after the write), the SDK sends the
 * same put again and meets its own item. Each claim therefore writes a random `attempt` id, and
 * a failed condition whose old item carries this call's attempt is the same claim, not a replay.
 * (Inside a launch's transaction the SDK's ClientRequestToken does that job.)
 */
export class DynamoUsedLoginStore implements UsedLoginStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * The claim as a put of its own or as an item of a launch's transaction (the recorder's): it
   * fails its condition when the (issuer, nonce) was claimed before, and then returns the item
   * that was there, whose state id `previousStateId` reads.
   */
  claimPut(issuer: string, nonce: string, stateId: string, expiresAt: number, attempt = randomUUID()) {
    return {
      TableName: this.tableName,
      Item: {
        ...keys.usedNonce(issuer, nonce),
        kind: USED_LOGIN_KIND,
        stateId,
        attempt,
        [TABLE_KEYS.ttl]: expiresAt,
      },
      ConditionExpression: "attribute_not_exists(#pk)",
      ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    } as const satisfies NonNullable<TransactItem["Put"]>;
  }

  async claim(
    issuer: string,
    nonce: string,
    stateId: string,
    expiresAt: number,
  ): Promise<{ previous?: string }> {
    const attempt = randomUUID();
    try {
      await this.doc.send(new PutCommand(this.claimPut(issuer, nonce, stateId, expiresAt, attempt)));
      return {};
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // This call's own write, met again by the SDK's retry after its answer was lost.
      if ((error.Item?.attempt as { S?: string } | undefined)?.S === attempt) return {};
      return { previous: previousStateId(error.Item) };
    }
  }
}

/**
 * The state id of a claim that failed its condition, from the old item DynamoDB returned (in
 * the low-level AttributeValue shape, in a ConditionalCheckFailedException as in a transaction's
 * cancellation reason); "" when it did not come back.
 */
export function previousStateId(item: Record<string, unknown> | undefined): string {
  return (item?.stateId as { S?: string } | undefined)?.S ?? "";
}
