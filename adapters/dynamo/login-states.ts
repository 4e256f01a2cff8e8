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
  claimPut(issuer: string, nonce: string, stateId: string, expiresAt: number) {
    return {
      TableName: this.tableName,
      Item: {
        ...keys.usedNonce(issuer, nonce),
        kind: USED_LOGIN_KIND,
        stateId,
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
    try {
      await this.doc.send(new PutCommand(this.claimPut(issuer, nonce, stateId, expiresAt)));
      return {};
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
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
