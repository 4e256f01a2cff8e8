import { setTimeout as sleep } from "node:timers/promises";
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import * as z from "../../domain/zod.js";
import type { RegistrationLink, RegistrationLinkStore } from "../../lti-tool/registration-links.js";
import { claimHeld, conditionHeld } from "./conditional.js";
import { queryAll } from "./query.js";
import { isExpired, keys, TABLE_KEYS } from "./table.js";

// Built on first use: only registering and the admin pages read links, never a launch.
const LinkItemSchema = z.lazySchema(() =>
  z.object({
    id: z.string(),
    note: z.string(),
    createdAt: z.string(),
    expiresAt: z.number(),
    usedAt: z.optional(z.string()),
    usedBy: z.optional(z.object({ issuer: z.string(), clientId: z.string() })),
    claimedUntil: z.optional(z.number()),
    requestId: z.optional(z.string()),
  }),
);

/** Registration links (lti-tool/registration-links.ts); the link's expiry is the item's TTL. */
export class DynamoRegistrationLinkStore implements RegistrationLinkStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async save(link: RegistrationLink): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: this.itemOf(link) }));
  }

  /**
   * The link and its form's request, in one transaction: the request item's put is conditional on
   * there being none, so of two requests of one form only one saves a link. The request item
   * lasts as long as the link (TTL).
   */
  async saveForRequest(link: RegistrationLink & { requestId: string }): Promise<boolean> {
    // Two requests of one form at the same instant: DynamoDB cancels the one that meets the
    // other's transaction in flight with TransactionConflict (the SDK does not retry it). Sent
    // again a moment later, it finds the other's request item and fails its condition: "sent before".
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.saveForRequestOnce(link);
      } catch (error) {
        const reasons =
          error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
        if (attempt >= 5 || !reasons.some((r) => r.Code === "TransactionConflict")) throw error;
        await sleep(20 * attempt + Math.round(Math.random() * 20));
      }
    }
  }

  private saveForRequestOnce(link: RegistrationLink & { requestId: string }): Promise<boolean> {
    return claimHeld(
      this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...keys.registrationLinkRequest(link.requestId),
                  kind: "registration-link-request",
                  linkId: link.id,
                  [TABLE_KEYS.ttl]: link.expiresAt,
                },
                ConditionExpression: "attribute_not_exists(pk)",
              },
            },
            { Put: { TableName: this.tableName, Item: this.itemOf(link) } },
          ],
        }),
      ),
    );
  }

  private itemOf(link: RegistrationLink) {
    return {
      ...keys.registrationLink(link.id),
      ...keys.registrationLinkListing,
      [TABLE_KEYS.gsi1sk]: link.createdAt,
      kind: "registration-link",
      ...link,
    };
  }

  async get(id: string): Promise<RegistrationLink | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.registrationLink(id), ConsistentRead: true }),
    );
    // TTL deletes late: an expired link is gone for readers already.
    return out.Item && !isExpired(out.Item) ? LinkItemSchema().parse(out.Item) : undefined;
  }

  claim(id: string, nowSeconds: number, untilSeconds: number): Promise<boolean> {
    return this.conditionalUpdate(id, {
      UpdateExpression: "SET claimedUntil = :until",
      ConditionExpression:
        "attribute_exists(#pk) AND attribute_not_exists(usedAt) AND (attribute_not_exists(claimedUntil) OR claimedUntil <= :now)",
      ExpressionAttributeValues: { ":until": untilSeconds, ":now": nowSeconds },
    });
  }

  async release(id: string): Promise<void> {
    // Conditional: an update of a removed link would create an item.
    await this.conditionalUpdate(id, {
      UpdateExpression: "REMOVE claimedUntil",
      ConditionExpression: "attribute_exists(#pk)",
    });
  }

  markUsed(
    id: string,
    usedAt: string,
    by: { issuer: string; clientId: string },
    keepUntil?: number,
  ): Promise<boolean> {
    return this.conditionalUpdate(id, {
      UpdateExpression: `SET usedAt = :at, usedBy = :by${keepUntil === undefined ? "" : ", expiresAt = :keep"} REMOVE claimedUntil`,
      ConditionExpression: "attribute_exists(#pk) AND attribute_not_exists(usedAt)",
      ExpressionAttributeValues: {
        ":at": usedAt,
        ":by": by,
        ...(keepUntil === undefined ? {} : { ":keep": keepUntil }),
      },
    });
  }

  /** An update of the link's item under a condition: false when the condition failed. */
  private async conditionalUpdate(
    id: string,
    update: {
      UpdateExpression: string;
      ConditionExpression: string;
      ExpressionAttributeValues?: Record<string, unknown>;
    },
  ): Promise<boolean> {
    return conditionHeld(
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.registrationLink(id),
          ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
          ...update,
        }),
      ),
    );
  }

  async list(nowSeconds: number): Promise<RegistrationLink[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: TABLE_KEYS.gsi1,
      KeyConditionExpression: "#g = :g",
      ExpressionAttributeNames: { "#g": TABLE_KEYS.gsi1pk },
      ExpressionAttributeValues: { ":g": keys.registrationLinkListing.gsi1pk },
      ScanIndexForward: false,
    });
    return items.filter((i) => !isExpired(i, nowSeconds)).map((i) => LinkItemSchema().parse(i));
  }

  async remove(id: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keys.registrationLink(id) }));
  }
}
