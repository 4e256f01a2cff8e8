import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export interface DynamoConfig {
  /** Set for DynamoDB Local (http://127.0.0.1:PORT); unset in AWS. */
  endpoint?: string;
  region?: string;
}

export function createDynamoClients(config: DynamoConfig = {}) {
  const client = new DynamoDBClient({
    region: config.region ?? "eu-west-2",
    ...(config.endpoint
      ? {
          endpoint: config.endpoint,
          // DynamoDB Local accepts any credentials; fixed ones keep one shared database.
          credentials: { accessKeyId: "local", secretAccessKey: "local" },
        }
      : {}),
  });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return { client, doc };
}
