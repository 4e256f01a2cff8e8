import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { CipherKey } from "./credential-cipher.js";

/**
 * Local development only: the credential key in a file (base64url, 32 bytes) inside the
 * git-ignored data folder, created on first use with owner-only permissions. In AWS the key
 * comes from KMS / Secrets Manager instead; this file is never bundled into a Lambda.
 */
export function loadOrCreateCredentialKey(path: string, kid = "local-1"): CipherKey {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
  }
  chmodSync(path, 0o600);
  const key = Buffer.from(readFileSync(path, "utf8").trim(), "base64url");
  if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte key (base64url)`);
  return { kid, key };
}
