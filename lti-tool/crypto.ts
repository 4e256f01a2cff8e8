import { createHash, randomBytes } from "node:crypto";

/** 256 bits from the CSPRNG, base64url: state, nonce and browser secrets. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

export function sha256b64url(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("base64url");
}
