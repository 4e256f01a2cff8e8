import { createHash } from "node:crypto";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { createDynamoClients } from "../../adapters/dynamo/client.js";
import { DynamoLrsRouteStore } from "../../adapters/dynamo/lrs-routes.js";
import { DynamoOutboxStore } from "../../adapters/dynamo/outbox.js";
import { logUnreadable } from "../../adapters/dynamo/unreadable.js";
import * as z from "../../domain/zod.js";
import { createAesGcmCipher } from "../../statements/credential-cipher.js";
import type { ForwarderDeps } from "../../statements/forwarder.js";
import { jsonLogger } from "../web/log.js";

/**
 * Configuration of the forwarder Lambda, read once per cold start and checked with zod.
 * XAPI_CREDENTIAL_KEY is the AES-256 key (base64url, 32 bytes) that opens the LRS credentials;
 * the hardening issue replaces it with a KMS data key.
 */
const EnvSchema = z
  .object({
    TABLE_NAME: z.string().check(z.minLength(1)),
    /** Local and tests: the AES-256 key itself (base64url, 32 bytes). */
    XAPI_CREDENTIAL_KEY: z.optional(
      z.string().check(
        z.minLength(1),
        z.refine((v) => Buffer.from(v, "base64url").length === 32, "must be 32 bytes, base64url"),
      ),
    ),
    /** AWS: a Secrets Manager secret; the key is SHA-256 of its value (infra/constructs/credential-key-secret.ts). */
    XAPI_CREDENTIAL_SECRET_ARN: z.optional(z.string().check(z.minLength(1))),
    XAPI_CREDENTIAL_KEY_ID: z._default(z.string().check(z.minLength(1)), "env-1"),
    AWS_REGION: z.optional(z.string().check(z.minLength(1))),
    DYNAMODB_ENDPOINT: z.optional(z.url()),
    XAPI_REQUEST_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.gte(100), z.lte(60_000)), 10_000),
  })
  .check(
    z.refine((c) => c.XAPI_CREDENTIAL_KEY || c.XAPI_CREDENTIAL_SECRET_ARN, {
      error: "set XAPI_CREDENTIAL_KEY or XAPI_CREDENTIAL_SECRET_ARN",
    }),
  );

/** The AES key from the deployed secret: fetched once per cold start. */
export async function credentialKeyFromSecret(arn: string, region: string | undefined): Promise<Uint8Array> {
  const client = new SecretsManagerClient(region ? { region } : {});
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    if (!out.SecretString) throw new Error("the xAPI credential secret has no string value");
    return createHash("sha256").update(out.SecretString, "utf8").digest();
  } finally {
    client.destroy();
  }
}

export function forwarderDepsFromEnv(
  env: Record<string, string | undefined>,
): ForwarderDeps | Promise<ForwarderDeps> {
  const config = EnvSchema.parse(env);
  const { doc } = createDynamoClients({
    ...(config.AWS_REGION ? { region: config.AWS_REGION } : {}),
    ...(config.DYNAMODB_ENDPOINT ? { endpoint: config.DYNAMODB_ENDPOINT } : {}),
  });
  const log = jsonLogger();
  const build = (key: Uint8Array): ForwarderDeps => {
    const cipher = createAesGcmCipher({ current: { kid: config.XAPI_CREDENTIAL_KEY_ID, key } });
    return {
      outbox: new DynamoOutboxStore(doc, config.TABLE_NAME, { onUnreadable: logUnreadable(log) }),
      routes: new DynamoLrsRouteStore(doc, config.TABLE_NAME, cipher, { onUnreadable: logUnreadable(log) }),
      policy: { requestTimeoutMs: config.XAPI_REQUEST_TIMEOUT_MS },
      onEvent: (event) =>
        (event.type === "parked" || event.type === "round_failed" ? log.warn : log.info)(
          `xapi.${event.type}`,
          event,
        ),
    };
  };
  if (config.XAPI_CREDENTIAL_KEY) return build(Buffer.from(config.XAPI_CREDENTIAL_KEY, "base64url"));
  return credentialKeyFromSecret(config.XAPI_CREDENTIAL_SECRET_ARN ?? "", config.AWS_REGION).then(build);
}

/** Build once, on first use (per cold start), then reuse. */
export function once<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
      // A failed asynchronous build (the secret could not be read) is tried again next time.
      if (value instanceof Promise) {
        value.catch(() => {
          built = false;
        });
      }
    }
    return value as T;
  };
}
