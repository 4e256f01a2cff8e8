import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import * as z from "../domain/zod.js";
import { CredentialsUnreadableError } from "./errors.js";

/**
 * Encryption of LRS credentials at rest. The table never holds them in plain text: the route
 * store seals them with a `CredentialCipher`, bound to the route id as additional
 * authenticated data, so a sealed secret copied onto another route does not open.
 *
 * `createAesGcmCipher` is AES-256-GCM with a key supplied by the caller (locally a file in the
 * git-ignored data folder; in AWS later a KMS data key). The interface is async so a KMS-backed
 * cipher can implement it unchanged.
 */

export const SealedSecretSchema = z.object({
  v: z.literal(1),
  alg: z.literal("A256GCM"),
  /** Which key sealed it, so keys can rotate. */
  kid: z.string().check(z.minLength(1)),
  iv: z.string().check(z.minLength(1)),
  ct: z.string(),
  tag: z.string().check(z.minLength(1)),
});
export type SealedSecret = z.infer<typeof SealedSecretSchema>;

export interface CredentialCipher {
  encrypt(plaintext: string, associatedData: string): Promise<SealedSecret>;
  /** Throws CredentialsUnreadableError when the key is unknown or the data was altered. */
  decrypt(sealed: SealedSecret, associatedData: string): Promise<string>;
}

export interface CipherKey {
  kid: string;
  /** 32 bytes. */
  key: Uint8Array;
}

/** AES-256-GCM with a 96-bit random IV per message (NIST SP 800-38D §8.2.2) and a 128-bit tag. */
export function createAesGcmCipher(options: {
  current: CipherKey;
  previous?: readonly CipherKey[];
}): CredentialCipher {
  const keys = new Map<string, Uint8Array>();
  for (const k of [options.current, ...(options.previous ?? [])]) {
    if (k.key.length !== 32) throw new TypeError(`key ${k.kid} must be 32 bytes for AES-256-GCM`);
    keys.set(k.kid, k.key);
  }
  return {
    async encrypt(plaintext, associatedData) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", options.current.key, iv, { authTagLength: 16 });
      cipher.setAAD(Buffer.from(associatedData, "utf8"));
      const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return {
        v: 1,
        alg: "A256GCM",
        kid: options.current.kid,
        iv: iv.toString("base64url"),
        ct: ct.toString("base64url"),
        tag: cipher.getAuthTag().toString("base64url"),
      };
    },
    async decrypt(sealed, associatedData) {
      const key = keys.get(sealed.kid);
      if (!key) {
        throw new CredentialsUnreadableError(
          "The LRS credentials were sealed with a key this tool does not have: set them again with `npm run lrs -- credentials --id <route>`.",
          {
            context: { kid: sealed.kid },
          },
        );
      }
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "base64url"), {
          authTagLength: 16,
        });
        decipher.setAAD(Buffer.from(associatedData, "utf8"));
        decipher.setAuthTag(Buffer.from(sealed.tag, "base64url"));
        return Buffer.concat([
          decipher.update(Buffer.from(sealed.ct, "base64url")),
          decipher.final(),
        ]).toString("utf8");
      } catch (cause) {
        throw new CredentialsUnreadableError(
          "The stored LRS credentials failed their integrity check: set them again with `npm run lrs -- credentials --id <route>`.",
          { cause, context: { kid: sealed.kid } },
        );
      }
    },
  };
}
