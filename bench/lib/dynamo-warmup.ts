/**
 * Warms DynamoDB Local before anything is timed. A fresh DynamoDB Local (a JVM) answers its
 * first thousand or so calls two to three times slower than later ones, while its JIT compiler
 * warms up; DynamoDB in AWS has no such phase. The calls are the kinds a launch makes (put,
 * get, update, one-item transaction), on keys no tool uses (`BENCH#WARMUP#…`).
 */
import { performance } from "node:perf_hooks";
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { createDynamoClients } from "../../adapters/dynamo/client.js";

export async function warmDynamoLocal(
  endpoint: string,
  tableName: string,
  options: { rounds?: number; maxMs?: number } = {},
): Promise<{ calls: number; ms: number }> {
  const rounds = options.rounds ?? 500;
  const maxMs = options.maxMs ?? 20_000;
  const { doc, client } = createDynamoClients({ endpoint });
  const started = performance.now();
  let calls = 0;
  try {
    for (let i = 0; i < rounds && performance.now() - started < maxMs; i++) {
      const key = { pk: `BENCH#WARMUP#${i}`, sk: "WARMUP" };
      await doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...key, n: i },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      await doc.send(new GetCommand({ TableName: tableName, Key: key }));
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: "BENCH#WARMUP", sk: "WARMUP" },
          UpdateExpression: "SET n = :n",
          ExpressionAttributeValues: { ":n": i },
        }),
      );
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: tableName,
                Key: { pk: `BENCH#WARMUP#T${i % 16}`, sk: "WARMUP" },
                UpdateExpression: "SET n = :n",
                ExpressionAttributeValues: { ":n": i },
              },
            },
          ],
        }),
      );
      calls += 4;
    }
  } finally {
    client.destroy();
  }
  return { calls, ms: performance.now() - started };
}
