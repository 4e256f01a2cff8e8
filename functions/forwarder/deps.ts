import { z } from "zod";
import { createDynamoClients } from "../../adapters/dynamo/client.js";
import { DynamoLrsRouteStore } from "../../adapters/dynamo/lrs-routes.js";
import { DynamoOutboxStore } from "../../adapters/dynamo/outbox.js";
import { createAesGcmCipher } from "../../statements/credential-cipher.js";
import type { ForwarderDeps } from "../../statements/forwarder.js";
import { jsonLogger } from "../web/log.js";

/**
 * Configuration of the forwarder Lambda, read once per cold start and checked with zod.
 * XAPI_CREDENTIAL_KEY is the AES-256 key (base64url, 32 bytes) that opens the LRS credentials;
 * the hardening issue replaces it with a KMS data key.
 */
const EnvSchema = z.object({
  TABLE_NAME: z.string().min(1),
  XAPI_CREDENTIAL_KEY: z
    .string()
    .min(1)
    .refine((v) => Buffer.from(v, "base64url").length === 32, "must be 32 bytes, base64url"),
  XAPI_CREDENTIAL_KEY_ID: z.string().min(1).default("env-1"),
  AWS_REGION: z.string().min(1).optional(),
  DYNAMODB_ENDPOINT: z.url().optional(),
  XAPI_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
});

export function forwarderDepsFromEnv(env: Record<string, string | undefined>): ForwarderDeps {
  const config = EnvSchema.parse(env);
  const { doc } = createDynamoClients({
    ...(config.AWS_REGION ? { region: config.AWS_REGION } : {}),
    ...(config.DYNAMODB_ENDPOINT ? { endpoint: config.DYNAMODB_ENDPOINT } : {}),
  });
  const cipher = createAesGcmCipher({
    current: {
      kid: config.XAPI_CREDENTIAL_KEY_ID,
      key: Buffer.from(config.XAPI_CREDENTIAL_KEY, "base64url"),
    },
  });
  const log = jsonLogger();
  return {
    outbox: new DynamoOutboxStore(doc, config.TABLE_NAME),
    routes: new DynamoLrsRouteStore(doc, config.TABLE_NAME, cipher),
    policy: { requestTimeoutMs: config.XAPI_REQUEST_TIMEOUT_MS },
    onEvent: (event) =>
      (event.type === "parked" || event.type === "round_failed" ? log.warn : log.info)(
        `xapi.${event.type}`,
        event,
      ),
  };
}

/** Build once, on first use (per cold start), then reuse. */
export function once<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}
