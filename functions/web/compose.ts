import { z } from "zod";
import { createDynamoClients } from "../../adapters/dynamo/client.js";
import { DynamoCourseServicesStore } from "../../adapters/dynamo/course-services.js";
import { DynamoEnrolmentStore } from "../../adapters/dynamo/enrolments.js";
import { DynamoGradeJobStore } from "../../adapters/dynamo/grade-jobs.js";
import { DynamoLaunchRecorder, type LaunchSideEffects } from "../../adapters/dynamo/launch-recorder.js";
import { DynamoLoginStateStore } from "../../adapters/dynamo/login-states.js";
import { DynamoRegistrationStore } from "../../adapters/dynamo/registrations.js";
import { DynamoToolKeyStore } from "../../adapters/dynamo/tool-keys.js";
import { DEFAULT_FRAMEWORK } from "../../domain/standards/framework.js";
import { NrpsClient } from "../../lti-tool/advantage/nrps.js";
import { PlatformServiceClient } from "../../lti-tool/advantage/service-client.js";
import { PlatformJwksCache } from "../../lti-tool/platform-jwks.js";
import type { ToolKeyStore } from "../../lti-tool/ports.js";
import { CachedRegistrationStore } from "../../lti-tool/registration-cache.js";
import { SessionTokens } from "../../lti-tool/session.js";
import { randomSecret, StoredKeySigner } from "../../lti-tool/tool-keys.js";
import type { AppDeps } from "./deps.js";
import { jsonLogger, type Logger } from "./log.js";

/** Environment of the web function (Lambda) and of the local server, validated once at start. */
export const RuntimeConfigSchema = z.object({
  TABLE_NAME: z.string().min(1),
  EVIDENCE_BUCKET: z.string().min(1),
  DYNAMODB_ENDPOINT: z.string().url().optional(),
  S3_ENDPOINT: z.string().url().optional(),
  AWS_REGION: z.string().min(1).default("eu-west-2"),
  PUBLIC_URL: z.string().url().optional(),
  HLTA_MODE: z.enum(["local", "aws"]).default("aws"),
});
export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;

export function loadRuntimeConfig(env: Record<string, string | undefined> = process.env): RuntimeConfig {
  const parsed = RuntimeConfigSchema.safeParse(env);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`The tool's environment is incomplete: ${detail}`);
  }
  return parsed.data;
}

export interface BuildOptions {
  /** Local: a file key store in the data folder. Default: keys in the table. */
  keyStore?: ToolKeyStore;
  log?: Logger;
  sideEffects?: LaunchSideEffects;
  adminApps?: AppDeps["adminApps"];
  fetch?: typeof fetch;
}

/** Build every dependency once (per cold start in Lambda, once per process locally). */
export async function buildDeps(config: RuntimeConfig, options: BuildOptions = {}): Promise<AppDeps> {
  const { doc } = createDynamoClients({
    region: config.AWS_REGION,
    ...(config.DYNAMODB_ENDPOINT ? { endpoint: config.DYNAMODB_ENDPOINT } : {}),
  });
  const table = config.TABLE_NAME;
  const keyStore = options.keyStore ?? new DynamoToolKeyStore(doc, table);
  const signer = new StoredKeySigner(keyStore);
  await signer.ensureKey();
  const sessionSecret = await keyStore.getOrCreateSecret("session-hmac", () => randomSecret(32));
  const enrolments = new DynamoEnrolmentStore(doc, table);
  const courseServices = new DynamoCourseServicesStore(doc, table);
  const grades = new DynamoGradeJobStore(doc, table);
  const serviceClient = new PlatformServiceClient({
    signer,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return {
    config: {
      toolName: "HLTA preparation",
      mode: config.HLTA_MODE,
      ...(config.PUBLIC_URL ? { publicUrl: config.PUBLIC_URL.replace(/\/$/, "") } : {}),
    },
    registrations: new CachedRegistrationStore(new DynamoRegistrationStore(doc, table)),
    states: new DynamoLoginStateStore(doc, table),
    platformKeys: new PlatformJwksCache(options.fetch ? { fetch: options.fetch } : {}),
    signer,
    sessions: new SessionTokens(sessionSecret),
    launches: new DynamoLaunchRecorder(enrolments, courseServices, options.sideEffects),
    cohort: enrolments,
    roster: courseServices,
    nrps: new NrpsClient(serviceClient),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    adminKey: () => keyStore.getOrCreateSecret("admin-key", () => randomSecret(24)),
    grades: {
      parked: () => grades.parked(),
      replay: async (course, activityId, userId, jobId) => {
        const job = (await grades.parked()).find(
          (j) =>
            j.jobId === jobId &&
            j.activityId === activityId &&
            j.userId === userId &&
            j.course.contextId === course.contextId,
        );
        if (job) await grades.replay(job);
      },
    },
    ...(options.adminApps ? { adminApps: options.adminApps } : {}),
    framework: DEFAULT_FRAMEWORK,
    log: options.log ?? jsonLogger(),
  };
}
