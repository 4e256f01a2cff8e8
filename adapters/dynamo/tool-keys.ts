import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import * as z from "../../domain/zod.js";
import type { ToolKey, ToolKeyStore } from "../../lti-tool/ports.js";
import { claimHeld, conditionHeld } from "./conditional.js";
import { keys, TABLE_KEYS } from "./table.js";

// Built on first use: a launch signs nothing (a tutor's cohort page may, to ask the LMS for its roster).
const ToolKeyItemSchema = z.lazySchema(() => {
  const JwkSchema = z.record(z.string(), z.unknown());
  return z.object({
    kid: z.string(),
    alg: z.literal("RS256"),
    publicJwk: JwkSchema,
    privateJwk: JwkSchema,
    createdAt: z.string(),
    activeFrom: z.optional(z.string()),
    supersededAt: z.optional(z.string()),
  });
});

/**
 * Skeleton key store for AWS: keys live in the table (encrypted at rest by its KMS key),
 * readable only by the web function. The hardening issue replaces it with a KMS signer
 * (infra/README.md, "How keys will be held in AWS").
 */
export class DynamoToolKeyStore implements ToolKeyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async listKeys(): Promise<ToolKey[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        // Strongly consistent: a first key another instance just made is seen (addFirstKey).
        ConsistentRead: true,
        // The keys only, not the first key's claim beside them.
        KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :kid)",
        ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk, "#sk": TABLE_KEYS.sk },
        ExpressionAttributeValues: { ":pk": keys.toolKeys.pk, ":kid": keys.toolKeys.skPrefix },
      }),
    );
    return (out.Items ?? []).map((i) => ToolKeyItemSchema().parse(i));
  }

  async addKey(key: ToolKey): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.toolKey(key.kid), kind: "tool-key", ...key },
        ConditionExpression: "attribute_not_exists(#pk)",
        ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
      }),
    );
  }

  async addFirstKey(key: ToolKey): Promise<boolean> {
    // False: another instance's first key won, and nothing of this one was written.
    return claimHeld(
      this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...keys.firstToolKey, kind: "tool-key-first", kid: key.kid, at: key.createdAt },
                ConditionExpression: "attribute_not_exists(#pk)",
                ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...keys.toolKey(key.kid), kind: "tool-key", ...key },
                ConditionExpression: "attribute_not_exists(#pk)",
                ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
              },
            },
          ],
        }),
      ),
    );
  }

  async markSuperseded(kid: string, at: string): Promise<void> {
    // Only a key that is there: an update makes the item it does not find, and a key item of a
    // date alone (the key removed meanwhile by another rotation) would break every listKeys.
    await conditionHeld(
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.toolKey(kid),
          UpdateExpression: "SET supersededAt = :at",
          ConditionExpression: "attribute_exists(#pk)",
          ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
          ExpressionAttributeValues: { ":at": at },
        }),
      ),
    );
  }

  async removeKey(kid: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keys.toolKey(kid) }));
  }

  async getOrCreateSecret(name: string, create: () => Uint8Array): Promise<Uint8Array> {
    const key = keys.toolSecret(name);
    const existing = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    if (typeof existing.Item?.value === "string") return Buffer.from(existing.Item.value, "base64");
    const value = create();
    const created = await conditionHeld(
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, kind: "tool-secret", value: Buffer.from(value).toString("base64") },
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
        }),
      ),
    );
    // Another cold start created it first: use theirs, so every instance shares one secret.
    return created ? value : this.getOrCreateSecret(name, create);
  }

  async replaceSecret(name: string, value: Uint8Array): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.toolSecret(name), kind: "tool-secret", value: Buffer.from(value).toString("base64") },
      }),
    );
  }

  async adminSessionsValidFrom(): Promise<number | undefined> {
    // Consistent: a sign-out on one instance holds on the next request to any other.
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.adminSessions, ConsistentRead: true }),
    );
    if (out.Item === undefined) return undefined;
    const validFrom = out.Item.validFrom;
    // Refuse every admin session rather than guess: an item edited by hand must not reopen them.
    if (typeof validFrom !== "number" || !Number.isFinite(validFrom)) {
      throw new Error(
        "The administration sessions item in the table (TOOLSECRET, ADMINSESSIONS) is damaged: its validFrom must be a time in epoch milliseconds.",
      );
    }
    return validFrom;
  }

  async endAdminSessions(at: Date): Promise<void> {
    // Later only, in one conditional write: a sign-out racing another, or by a clock a little
    // behind, leaves the later instant (its condition failing means a later one is there).
    await conditionHeld(
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.adminSessions,
          UpdateExpression: "SET validFrom = :at, kind = :kind",
          ConditionExpression: "attribute_not_exists(validFrom) OR validFrom < :at",
          ExpressionAttributeValues: { ":at": at.getTime(), ":kind": "admin-sessions" },
        }),
      ),
    );
  }
}
