/**
 * Our tool on loopback, for the launch benchmark: dev/tool-server.ts (the same Hono app as
 * the Lambda) over the DynamoDB Local table named in the environment, default key store
 * (keys in the table), silent logs. Forked by bench/run.ts, which registers the development
 * platform the way an administrator does (`registerPlatform`, as `npm run register`).
 */
import { createDynamoClients } from "../../adapters/dynamo/client.js";
import { DynamoRegistrationStore } from "../../adapters/dynamo/registrations.js";
import { startToolServer } from "../../dev/tool-server.js";
import { silentLogger } from "../../functions/web/log.js";
import { registerPlatform } from "../../lti-tool/registration.js";
import { failStart, serveParent } from "./child-tool.js";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set.`);
  return value;
}

try {
  const dynamoEndpoint = env("DYNAMODB_ENDPOINT");
  const tableName = env("TABLE_NAME");
  const tool = await startToolServer({
    dynamoEndpoint,
    s3Endpoint: env("S3_ENDPOINT"),
    tableName,
    bucketName: env("EVIDENCE_BUCKET"),
    host: "127.0.0.1",
    port: Number(process.env.PORT ?? 0),
    log: silentLogger,
  });
  const { doc, client } = createDynamoClients({ endpoint: dynamoEndpoint });
  serveParent({
    url: tool.url,
    register: async ({ deploymentIds, ...registration }) => {
      await registerPlatform(
        { ...registration, deploymentIds: [...deploymentIds] },
        new DynamoRegistrationStore(doc, tableName),
      );
    },
    stop: async () => {
      client.destroy();
      await tool.stop();
    },
  });
} catch (error) {
  failStart(error);
}
