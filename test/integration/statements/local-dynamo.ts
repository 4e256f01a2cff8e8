import { createDynamoClients } from "../../../adapters/dynamo/client.js";
import { ensureTable } from "../../../adapters/dynamo/schema.js";
import { startDynamoLocal } from "../../../dev/local-services.js";

/** DynamoDB Local in memory on a free loopback port, with the table, for one test file. */
export async function dynamoForTests(tableName = "hlta") {
  const dynamo = await startDynamoLocal();
  const { client, doc } = createDynamoClients({ endpoint: dynamo.endpoint });
  try {
    await ensureTable(client, tableName);
  } catch (error) {
    client.destroy();
    await dynamo.stop();
    throw error;
  }
  return {
    endpoint: dynamo.endpoint,
    tableName,
    client,
    doc,
    async stop() {
      client.destroy();
      await dynamo.stop();
    },
  };
}
