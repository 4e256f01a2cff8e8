import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDynamoClients } from "../../adapters/dynamo/client.js";
import { createS3Client } from "../../adapters/s3/client.js";
import { type LocalAws, startLocalAws } from "../../dev/local-services.js";

/** DynamoDB Local + s3rver on free loopback ports, in memory / a temp folder, for one test file. */
export async function localAwsForTests() {
  const dir = mkdtempSync(join(tmpdir(), "hlta-it-"));
  const aws: LocalAws = await startLocalAws({ dataDir: dir, persistDynamo: false });
  const { client, doc } = createDynamoClients({ endpoint: aws.dynamoEndpoint });
  const s3 = createS3Client({ endpoint: aws.s3Endpoint });
  return {
    ...aws,
    client,
    doc,
    s3,
    async stop() {
      client.destroy();
      s3.destroy();
      await aws.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
