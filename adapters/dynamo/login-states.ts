import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { UsedLoginStore } from "../../lti-tool/ports.js";
import { keys, TABLE_KEYS } from "./table.js";

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

  async claim(
    issuer: string,
    nonce: string,
    stateId: string,
    expiresAt: number,
  ): Promise<{ previous?: string }> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.usedNonce(issuer, nonce),
            kind: "used-login",
            stateId,
            [TABLE_KEYS.ttl]: expiresAt,
          },
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return {};
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The exception's Item is in the low-level AttributeValue shape.
      const previous = (error.Item?.stateId as { S?: string } | undefined)?.S;
      return { previous: previous ?? "" };
    }
  }
}
