import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { JWK } from "jose";
import * as z from "../../domain/zod.js";
import { CLOCK_SKEW_MS, type FetchedPlatformKeys, type PlatformKeyStore } from "../../lti-tool/ports.js";
import { conditionHeld } from "./conditional.js";
import { isExpired, keys, TABLE_KEYS } from "./table.js";

/**
 * Keys are kept two days after their fetch, then DynamoDB's TTL removes them: the JWKS cache
 * serves keys at most a day past their fetch, while their LMS's endpoint is down
 * (lti-tool/platform-jwks.ts).
 */
const KEEP_SECONDS = 2 * 24 * 60 * 60;
/** A DynamoDB item holds 400 KB; a JWKS that large (hundreds of keys) is not shared, only used. */
export const MAX_SHARED_JWKS_BYTES = 350_000;

const KeysItemSchema = z.object({
  jwksUrl: z.string(),
  jwks: z.string(),
  fetchedAt: z.number(),
});
const KeysSchema = z.array(z.record(z.string(), z.unknown()));

/** The platform keys shared by the tool's instances (lti-tool/ports.ts, PlatformKeyStore). */
export class DynamoPlatformKeyStore implements PlatformKeyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async get(jwksUrl: string): Promise<FetchedPlatformKeys | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.platformKeys(jwksUrl) }),
    );
    if (!out.Item || isExpired(out.Item, Math.floor(this.now() / 1000))) return undefined;
    const item = KeysItemSchema.parse(out.Item);
    // The key is the URL's hash: the item must be this URL's.
    if (item.jwksUrl !== jwksUrl) return undefined;
    return { jwks: { keys: KeysSchema.parse(JSON.parse(item.jwks)) as JWK[] }, fetchedAt: item.fetchedAt };
  }

  async put(jwksUrl: string, fetched: FetchedPlatformKeys): Promise<void> {
    // Kept as the JSON the LMS published (a string): DynamoDB's own types would not keep it exact.
    const jwks = JSON.stringify(fetched.jwks.keys);
    if (Buffer.byteLength(jwks, "utf8") > MAX_SHARED_JWKS_BYTES) {
      throw new Error(`The JWKS at ${jwksUrl} is over ${MAX_SHARED_JWKS_BYTES} bytes: not shared.`);
    }
    // Keys fetched later by another instance are not overwritten by these (the condition fails),
    // unless dated further ahead of this clock than clocks drift (their instance's ran ahead).
    await conditionHeld(
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.platformKeys(jwksUrl),
            kind: "platform-keys",
            jwksUrl,
            jwks,
            fetchedAt: fetched.fetchedAt,
            [TABLE_KEYS.ttl]: Math.floor(fetched.fetchedAt / 1000) + KEEP_SECONDS,
          },
          ConditionExpression: "attribute_not_exists(#pk) OR fetchedAt <= :fetchedAt OR fetchedAt > :ahead",
          ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
          ExpressionAttributeValues: {
            ":fetchedAt": fetched.fetchedAt,
            ":ahead": this.now() + CLOCK_SKEW_MS,
          },
        }),
      ),
    );
  }
}
