import { createHash } from "node:crypto";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { credentialKeyFromSecret, forwarderDepsFromEnv, once } from "../../../functions/forwarder/deps.js";

const secrets = mockClient(SecretsManagerClient);
afterEach(() => secrets.reset());

describe("forwarder configuration", () => {
  it("derives the credential key as SHA-256 of the deployed secret's value", async () => {
    secrets
      .on(GetSecretValueCommand, { SecretId: "arn:secret" })
      .resolves({ SecretString: "generated-value" });
    const key = await credentialKeyFromSecret("arn:secret", "eu-west-2");
    expect(Buffer.from(key).toString("hex")).toBe(
      createHash("sha256").update("generated-value").digest("hex"),
    );
  });

  it("refuses an environment with neither a key nor a secret", () => {
    expect(() => forwarderDepsFromEnv({ TABLE_NAME: "t" })).toThrow(
      /XAPI_CREDENTIAL_KEY or XAPI_CREDENTIAL_SECRET_ARN/,
    );
  });

  it("builds synchronously from a local key", () => {
    const deps = forwarderDepsFromEnv({
      TABLE_NAME: "t",
      XAPI_CREDENTIAL_KEY: Buffer.alloc(32, 1).toString("base64url"),
    });
    expect(deps).not.toBeInstanceOf(Promise);
  });

  it("tries a failed asynchronous build again on the next call", async () => {
    let calls = 0;
    const get = once(() => {
      calls++;
      return calls === 1 ? Promise.reject(new Error("secret unreadable")) : Promise.resolve("ok");
    });
    await expect(get()).rejects.toThrow("secret unreadable");
    await expect(get()).resolves.toBe("ok");
    expect(calls).toBe(2);
  });
});
