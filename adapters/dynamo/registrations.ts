import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import * as z from "../../domain/zod.js";
import type { DeploymentRecord, PlatformRegistration, RegistrationStore } from "../../lti-tool/ports.js";
import { clientIdInUse, platformAlreadyRegistered } from "../../lti-tool/registration.js";
import { queryAll } from "./query.js";
import { keys, orderingKey, TABLE_KEYS } from "./table.js";

const PlatformItemSchema = z.object({
  issuer: z.string(),
  clientId: z.string(),
  authUrl: z.string(),
  tokenUrl: z.string(),
  jwksUrl: z.string(),
  authServer: z.optional(z.string()),
  name: z.optional(z.string()),
  productFamily: z.optional(z.string()),
  createdAt: z.string(),
  lastLaunchAt: z.optional(z.string()),
});
const DeploymentItemSchema = z.object({
  issuer: z.string(),
  clientId: z.string(),
  deploymentId: z.string(),
  createdAt: z.string(),
  lastLaunchAt: z.optional(z.string()),
});

/** DynamoDB's limit of items in one TransactWriteItems call. */
const TRANSACTION_ITEMS = 100;

function toPlatform(item: Record<string, unknown>): PlatformRegistration {
  return PlatformItemSchema.parse(item);
}
function toDeployment(item: Record<string, unknown>): DeploymentRecord {
  return DeploymentItemSchema.parse(item);
}

export class DynamoRegistrationStore implements RegistrationStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async platformsByIssuer(issuer: string): Promise<PlatformRegistration[]> {
    const k = keys.platformsOfIssuer(issuer);
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :sk)",
        ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk, "#sk": TABLE_KEYS.sk },
        ExpressionAttributeValues: { ":pk": k.pk, ":sk": k.skPrefix },
      }),
    );
    return (out.Items ?? []).filter((i) => i.kind === "platform").map(toPlatform);
  }

  async getPlatform(issuer: string, clientId: string): Promise<PlatformRegistration | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.platform(issuer, clientId) }),
    );
    return out.Item ? toPlatform(out.Item) : undefined;
  }

  async platformsWithClientId(clientId: string): Promise<PlatformRegistration[]> {
    // The PLATFORMS listing (one item per registration; a tool has tens, not thousands).
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: TABLE_KEYS.gsi1,
      KeyConditionExpression: "#g = :g",
      FilterExpression: "clientId = :cid",
      ExpressionAttributeNames: { "#g": TABLE_KEYS.gsi1pk },
      ExpressionAttributeValues: { ":g": keys.platformListing.gsi1pk, ":cid": clientId },
    });
    return items.map(toPlatform);
  }

  async getDeployment(
    issuer: string,
    clientId: string,
    deploymentId: string,
  ): Promise<DeploymentRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.deployment(issuer, clientId, deploymentId) }),
    );
    return out.Item ? toDeployment(out.Item) : undefined;
  }

  /**
   * The platform and its deployments in one transaction: all saved or none (a registration
   * half-saved would launch from some deployments and not others). DynamoDB takes 100 items per
   * transaction; deployments beyond the first 99 follow in further ones, the platform being saved.
   */
  async savePlatform(
    platform: PlatformRegistration,
    deploymentIds: readonly string[],
    options: { exclusiveClientId?: boolean; keepEndpoints?: boolean } = {},
  ): Promise<void> {
    const platformItem = {
      ...keys.platform(platform.issuer, platform.clientId),
      ...keys.platformListing,
      // Orders the listing; an issuer and client id longer than a sort key together are cut.
      [TABLE_KEYS.gsi1sk]: orderingKey(`${platform.issuer}#${platform.clientId}`),
      kind: "platform",
      ...platform,
    };
    // The client id's owner, in the first transaction with the platform: taken for this issuer
    // unless another issuer holds it.
    const owner = {
      Put: {
        TableName: this.tableName,
        Item: { ...keys.clientIdOwner(platform.clientId), kind: "client-id-owner", issuer: platform.issuer },
        ConditionExpression: "attribute_not_exists(#pk) OR issuer = :iss",
        ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
        ExpressionAttributeValues: { ":iss": platform.issuer },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
      },
    };
    // Kept where it is unless it is new or already at these addresses (dynamic registration).
    const keep = options.keepEndpoints
      ? {
          ConditionExpression: `attribute_not_exists(#pk) OR (authUrl = :auth AND tokenUrl = :token AND jwksUrl = :jwks AND ${
            platform.authServer === undefined ? "attribute_not_exists(authServer)" : "authServer = :as"
          })`,
          ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
          ExpressionAttributeValues: {
            ":auth": platform.authUrl,
            ":token": platform.tokenUrl,
            ":jwks": platform.jwksUrl,
            ...(platform.authServer === undefined ? {} : { ":as": platform.authServer }),
          },
        }
      : {};
    const platformAt = options.exclusiveClientId ? 1 : 0;
    const writes = [
      ...(options.exclusiveClientId ? [owner] : []),
      { Put: { TableName: this.tableName, Item: platformItem, ...keep } },
      // One operation per item in a transaction: a deployment named twice is written once.
      ...[...new Set(deploymentIds)].map((deploymentId) => ({
        Update: this.deploymentUpdate({
          issuer: platform.issuer,
          clientId: platform.clientId,
          deploymentId,
          createdAt: platform.createdAt,
        }),
      })),
    ];
    for (let i = 0; i < writes.length; i += TRANSACTION_ITEMS) {
      try {
        await this.doc.send(
          new TransactWriteCommand({ TransactItems: writes.slice(i, i + TRANSACTION_ITEMS) }),
        );
      } catch (error) {
        const reasons = error instanceof TransactionCanceledException ? error.CancellationReasons : undefined;
        const reason = reasons?.[0];
        if (i === 0 && options.exclusiveClientId && reason?.Code === "ConditionalCheckFailed") {
          const heldBy = reason.Item?.issuer?.S;
          throw clientIdInUse(platform.clientId, platform.issuer, heldBy ? [heldBy] : []);
        }
        if (i === 0 && options.keepEndpoints && reasons?.[platformAt]?.Code === "ConditionalCheckFailed") {
          throw platformAlreadyRegistered(platform.issuer, platform.clientId);
        }
        throw error;
      }
    }
  }

  async addDeployment(d: DeploymentRecord): Promise<void> {
    await this.doc.send(new UpdateCommand(this.deploymentUpdate(d)));
  }

  private deploymentUpdate(d: DeploymentRecord) {
    // if_not_exists keeps the first createdAt and any lastLaunchAt on re-registration.
    return {
      TableName: this.tableName,
      Key: keys.deployment(d.issuer, d.clientId, d.deploymentId),
      UpdateExpression:
        "SET kind = :kind, issuer = :iss, clientId = :cid, deploymentId = :dep, createdAt = if_not_exists(createdAt, :at)",
      ExpressionAttributeValues: {
        ":kind": "deployment",
        ":iss": d.issuer,
        ":cid": d.clientId,
        ":dep": d.deploymentId,
        ":at": d.createdAt,
      },
    };
  }

  async listPlatforms(): Promise<{ platform: PlatformRegistration; deployments: DeploymentRecord[] }[]> {
    const platforms = (
      await queryAll(this.doc, {
        TableName: this.tableName,
        IndexName: TABLE_KEYS.gsi1,
        KeyConditionExpression: "#g = :g",
        ExpressionAttributeNames: { "#g": TABLE_KEYS.gsi1pk },
        ExpressionAttributeValues: { ":g": keys.platformListing.gsi1pk },
      })
    ).map(toPlatform);
    const result = [];
    for (const platform of platforms) {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :sk)",
          ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk, "#sk": TABLE_KEYS.sk },
          ExpressionAttributeValues: {
            ":pk": keys.deploymentsOf(platform.issuer, platform.clientId).pk,
            ":sk": keys.deploymentsOf(platform.issuer, platform.clientId).skPrefix,
          },
        }),
      );
      result.push({ platform, deployments: (out.Items ?? []).map(toDeployment) });
    }
    return result;
  }

  async recordLaunch(issuer: string, clientId: string, deploymentId: string, at: string): Promise<void> {
    const set = (key: Record<string, string>) =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: "SET lastLaunchAt = :at",
          ConditionExpression: "attribute_exists(#pk)",
          ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
          ExpressionAttributeValues: { ":at": at },
        }),
      );
    await Promise.all([
      set(keys.platform(issuer, clientId)),
      set(keys.deployment(issuer, clientId, deploymentId)),
    ]);
  }
}
