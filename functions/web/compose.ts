import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDynamoClients } from "../../adapters/dynamo/client.js";
import { DynamoCourseServicesStore } from "../../adapters/dynamo/course-services.js";
import { DynamoEnrolmentStore } from "../../adapters/dynamo/enrolments.js";
import { DynamoGradeJobStore } from "../../adapters/dynamo/grade-jobs.js";
import { DynamoLaunchRecorder, type LaunchSideEffects } from "../../adapters/dynamo/launch-recorder.js";
import { cachedTenantTargets, launchStatements } from "../../adapters/dynamo/launch-statements.js";
import { DynamoUsedLoginStore } from "../../adapters/dynamo/login-states.js";
import { DynamoLrsRouteStore } from "../../adapters/dynamo/lrs-routes.js";
import { XapiOutboxWriter } from "../../adapters/dynamo/outbox.js";
import { DynamoPlatformKeyStore } from "../../adapters/dynamo/platform-keys.js";
import { DynamoRegistrationLinkStore } from "../../adapters/dynamo/registration-links.js";
import { DynamoRegistrationStore } from "../../adapters/dynamo/registrations.js";
import { DynamoToolKeyStore } from "../../adapters/dynamo/tool-keys.js";
import { logUnreadable } from "../../adapters/dynamo/unreadable.js";
import { nodeGet } from "../../adapters/http/node-get.js";
import { allowLoopbackEndpoints } from "../../domain/endpoints.js";
import { DEFAULT_FRAMEWORK } from "../../domain/standards/framework.js";
import * as z from "../../domain/zod.js";
import { NrpsClient } from "../../lti-tool/advantage/nrps.js";
import { PlatformServiceClient } from "../../lti-tool/advantage/service-client.js";
import { SealedLoginStates } from "../../lti-tool/login-state.js";
import { PlatformJwksCache } from "../../lti-tool/platform-jwks.js";
import type { ToolKeyStore } from "../../lti-tool/ports.js";
import { CachedRegistrationStore } from "../../lti-tool/registration-cache.js";
import { SessionTokens } from "../../lti-tool/session.js";
import { ADMIN_KEY_SECRET, newAdminKey, randomSecret, StoredKeySigner } from "../../lti-tool/tool-keys.js";
import { standardLabelsFrom } from "../../statements/builders.js";
import type { CredentialCipher } from "../../statements/credential-cipher.js";
import type { AppDeps } from "./deps.js";
import { jsonLogger, type Logger } from "./log.js";

/** Environment of the web function (Lambda) and of the local server, validated once at start. */
export const RuntimeConfigSchema = z.object({
  TABLE_NAME: z.string().check(z.minLength(1)),
  // Not read yet: the deployed web function is given no bucket until the evidence issue.
  EVIDENCE_BUCKET: z.optional(z.string().check(z.minLength(1))),
  DYNAMODB_ENDPOINT: z.optional(z.url()),
  S3_ENDPOINT: z.optional(z.url()),
  AWS_REGION: z._default(z.string().check(z.minLength(1)), "eu-west-2"),
  PUBLIC_URL: z.optional(z.url()),
  HLTA_MODE: z._default(z.enum(["local", "aws"]), "aws"),
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

/** Refuses to seal or open LRS credentials where no credential key is configured (routes still resolve). */
const noCredentialKey: CredentialCipher = {
  encrypt: async () => {
    throw new Error("No xAPI credential key is configured here, so LRS credentials cannot be sealed.");
  },
  decrypt: async () => {
    throw new Error("No xAPI credential key is configured here, so LRS credentials cannot be opened.");
  },
};

export const EMITTER = "hlta-lti-tool/0.1.0";

export interface BuildOptions {
  /** Seals LRS credentials (locally a key file in .data; in AWS a secret). */
  xapiCipher?: CredentialCipher;
  /** Local: a file key store in the data folder. Default: keys in the table. */
  keyStore?: ToolKeyStore;
  log?: Logger;
  sideEffects?: LaunchSideEffects;
  /**
   * The administration pages built on the table (`functions/admin/admin-app.ts` `adminApps`):
   * passed by the admin function and `npm start`, not by the web function, whose bundle then
   * carries none of their code.
   */
  admin?: (parts: AdminParts) => NonNullable<AppDeps["adminApps"]>;
  fetch?: typeof fetch;
}

/** What the administration pages are built from. */
export interface AdminParts {
  doc: DynamoDBDocumentClient;
  tableName: string;
  log: Logger;
  lrsRoutes: DynamoLrsRouteStore;
}

/** Build every dependency once (per cold start in Lambda, once per process locally). */
export async function buildDeps(config: RuntimeConfig, options: BuildOptions = {}): Promise<AppDeps> {
  // Local mode: the development platform and LRS double answer on loopback over http.
  if (config.HLTA_MODE === "local") allowLoopbackEndpoints();
  const { doc } = createDynamoClients({
    region: config.AWS_REGION,
    ...(config.DYNAMODB_ENDPOINT ? { endpoint: config.DYNAMODB_ENDPOINT } : {}),
  });
  const table = config.TABLE_NAME;
  const keyStore = options.keyStore ?? new DynamoToolKeyStore(doc, table);
  const signer = new StoredKeySigner(keyStore);
  // Keys and secrets load on first use: importing the Lambda bundle makes no network call.
  const sessionSecret = () => keyStore.getOrCreateSecret("session-hmac", () => randomSecret(32));
  const enrolments = new DynamoEnrolmentStore(doc, table);
  const courseServices = new DynamoCourseServicesStore(doc, table);
  const log = options.log ?? jsonLogger();
  const grades = new DynamoGradeJobStore(doc, table, { onUnreadable: logUnreadable(log) });
  const lrsRoutes = new DynamoLrsRouteStore(doc, table, options.xapiCipher ?? noCredentialKey, {
    onUnreadable: logUnreadable(log),
  });
  const outboxWriter = new XapiOutboxWriter(
    { resolveTenant: cachedTenantTargets((tenant) => lrsRoutes.resolveTenant(tenant)) },
    { tableName: table, emitter: EMITTER, standardLabel: standardLabelsFrom([DEFAULT_FRAMEWORK]) },
  );
  const sessions = new SessionTokens(sessionSecret);
  const usedLogins = new DynamoUsedLoginStore(doc, table);
  return {
    config: {
      toolName: "HLTA preparation",
      mode: config.HLTA_MODE,
      ...(config.PUBLIC_URL ? { publicUrl: config.PUBLIC_URL.replace(/\/$/, "") } : {}),
    },
    registrations: new CachedRegistrationStore(new DynamoRegistrationStore(doc, table)),
    registrationLinks: new DynamoRegistrationLinkStore(doc, table),
    // Login states are sealed with the session secret; only their single use is stored.
    states: new SealedLoginStates(sessions, usedLogins),
    platformKeys: new PlatformJwksCache({
      // node:http(s), not fetch: a new instance's first launch may fetch the LMS's keys, and
      // fetch's own client is slow on first use (adapters/http/node-get.ts).
      fetch: options.fetch ?? nodeGet,
      onStaleKeys: ({ jwksUrl, fetchedAt, cause }) =>
        log.warn("lti.jwks.stale", {
          jwksUrl,
          fetchedAt: new Date(fetchedAt).toISOString(),
          detail:
            "The LMS's key endpoint failed; launches are checked with its keys from before, for up to 24 hours.",
          cause,
        }),
      shared: new DynamoPlatformKeyStore(doc, table),
      onSharedStoreError: ({ jwksUrl, operation, cause }) =>
        log.warn("lti.jwks.shared_store_failed", {
          jwksUrl,
          operation,
          detail:
            "The platform keys shared in the table could not be used; launches fetch them from the LMS.",
          cause,
        }),
    }),
    signer,
    sessions,
    launches: new DynamoLaunchRecorder(
      enrolments,
      courseServices,
      usedLogins,
      options.sideEffects ?? launchStatements(outboxWriter, log),
    ),
    cohort: enrolments,
    roster: courseServices,
    // A tutor waits for the cohort page: two quick attempts, then the cached roster is shown.
    nrps: new NrpsClient(
      new PlatformServiceClient({
        signer,
        maxAttempts: 2,
        timeoutMs: 3_000,
        maxRetryAfterMs: 1_000,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    ),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    // Both read from the key store at each use, never cached in the instance: a replaced key
    // or a sign-out holds on every instance at once (admin requests are few).
    adminKey: () => keyStore.getOrCreateSecret(ADMIN_KEY_SECRET, newAdminKey),
    adminSessions: keyStore,
    grades: {
      parked: () => grades.parked(),
      replay: async (course, activityId, userId, jobId) => {
        // By key: the same job version, still parked (a newer completion replaces it).
        const job = await grades.get(course, activityId, userId);
        if (job?.jobId === jobId && job.status === "parked") await grades.replay(job);
      },
    },
    adminApps: options.admin?.({ doc, tableName: table, log, lrsRoutes }) ?? [],
    framework: DEFAULT_FRAMEWORK,
    log,
  };
}
