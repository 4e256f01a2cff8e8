import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** 256 bits from the CSPRNG, base64url: state, nonce and browser secrets. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

export function sha256b64url(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("base64url");
}

/** Compares two strings in time independent of where they differ (hashes, keys). */
export function timingSafeEqualText(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}
