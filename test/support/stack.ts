/** One test file's whole local stack: DynamoDB Local, s3rver, the tool, and development platforms. */
import { DynamoRegistrationStore } from "../../adapters/dynamo/registrations.js";
import {
  type RunningDevPlatform,
  type StartDevPlatformOptions,
  startDevPlatform,
} from "../../dev/platform/index.js";
import { type RunningToolServer, startToolServer, type ToolServerOptions } from "../../dev/tool-server.js";
import { silentLogger } from "../../functions/web/log.js";
import { registerPlatform } from "../../lti-tool/registration.js";
import { localAwsForTests } from "./local-aws.js";

export type LocalAws = Awaited<ReturnType<typeof localAwsForTests>>;

export interface Stack {
  aws: LocalAws;
  tool: RunningToolServer;
  stop(): Promise<void>;
}

/** DynamoDB Local, s3rver and the tool's web server, for one test file. */
export async function startStack(
  toolOptions: Partial<
    Omit<ToolServerOptions, "dynamoEndpoint" | "s3Endpoint" | "tableName" | "bucketName">
  > = {},
): Promise<Stack> {
  const aws = await localAwsForTests();
  try {
    const tool = await startToolServer({
      dynamoEndpoint: aws.dynamoEndpoint,
      s3Endpoint: aws.s3Endpoint,
      tableName: aws.tableName,
      bucketName: aws.bucketName,
      log: silentLogger,
      ...toolOptions,
    });
    return {
      aws,
      tool,
      async stop() {
        await tool.stop();
        await aws.stop();
      },
    };
  } catch (error) {
    await aws.stop();
    throw error;
  }
}

/** The tool's public endpoints, as an administrator would type them into the LMS. */
export function toolEndpoints(tool: RunningToolServer) {
  return {
    loginInitiationUrl: `${tool.url}/lti/login`,
    targetLinkUri: `${tool.url}/app`,
    redirectUris: [`${tool.url}/lti/launch`],
    jwksUrl: `${tool.url}/.well-known/jwks.json`,
  };
}

/**
 * A development platform on `localhost` (the tool is on `127.0.0.1`: another site) whose first
 * tool is ours; registered in the tool by hand unless `register` is false.
 */
export async function startPlatform(
  stack: Stack,
  options: Omit<StartDevPlatformOptions, "tool" | "host"> & { register?: boolean } = {},
): Promise<RunningDevPlatform> {
  const { register = true, ...rest } = options;
  const running = await startDevPlatform({ host: "localhost", ...rest, tool: toolEndpoints(stack.tool) });
  if (register) {
    const { deploymentIds, ...reg } = running.platform.registration();
    await registerPlatform(
      { ...reg, deploymentIds: [...deploymentIds] },
      new DynamoRegistrationStore(stack.aws.doc, stack.aws.tableName),
    );
  }
  return running;
}
