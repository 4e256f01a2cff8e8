import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { TABLE_KEYS } from "./table.js";

/**
 * Create the table locally with the same key schema as infra/ declares (the infra test checks
 * the two agree). Idempotent: an existing table is left as it is.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<"created" | "exists"> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return "exists";
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(new CreateTableCommand(tableDefinition(tableName)));
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TABLE_KEYS.ttl, Enabled: true },
    }),
  );
  return "created";
}

export function tableDefinition(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST" as const,
    AttributeDefinitions: [
      { AttributeName: TABLE_KEYS.pk, AttributeType: "S" as const },
      { AttributeName: TABLE_KEYS.sk, AttributeType: "S" as const },
      { AttributeName: TABLE_KEYS.gsi1pk, AttributeType: "S" as const },
      { AttributeName: TABLE_KEYS.gsi1sk, AttributeType: "S" as const },
    ],
    KeySchema: [
      { AttributeName: TABLE_KEYS.pk, KeyType: "HASH" as const },
      { AttributeName: TABLE_KEYS.sk, KeyType: "RANGE" as const },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: TABLE_KEYS.gsi1,
        KeySchema: [
          { AttributeName: TABLE_KEYS.gsi1pk, KeyType: "HASH" as const },
          { AttributeName: TABLE_KEYS.gsi1sk, KeyType: "RANGE" as const },
        ],
        Projection: { ProjectionType: "ALL" as const },
      },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_IMAGE" as const },
  };
}
