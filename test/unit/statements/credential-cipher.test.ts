import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createAesGcmCipher } from "../../../statements/credential-cipher.js";
import { CredentialsUnreadableError } from "../../../statements/errors.js";
import { LrsCredentials } from "../../../statements/ports.js";

const key1 = { kid: "k1", key: randomBytes(32) };
const key2 = { kid: "k2", key: randomBytes(32) };
const SECRET = '{"username":"lrs-key","password":"s3cret-pa55"}';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe("AES-256-GCM credential cipher", () => {
  it("round-trips, and the sealed form does not contain the secret", async () => {
    const cipher = createAesGcmCipher({ current: key1 });
    const sealed = await cipher.encrypt(SECRET, "route-1");
    expect(sealed).toMatchObject({ v: 1, alg: "A256GCM", kid: "k1" });
    expect(JSON.stringify(sealed)).not.toContain("s3cret");
    expect(await cipher.decrypt(sealed, "route-1")).toBe(SECRET);
  });

  it("uses a fresh IV each time", async () => {
    const cipher = createAesGcmCipher({ current: key1 });
    const a = await cipher.encrypt(SECRET, "route-1");
    const b = await cipher.encrypt(SECRET, "route-1");
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
  });

  it("detects a tampered ciphertext or tag", async () => {
    const cipher = createAesGcmCipher({ current: key1 });
    const sealed = await cipher.encrypt(SECRET, "route-1");
    const flipped = Buffer.from(sealed.ct, "base64url");
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const badCt = await rejection(
      cipher.decrypt({ ...sealed, ct: flipped.toString("base64url") }, "route-1"),
    );
    expect(badCt).toBeInstanceOf(CredentialsUnreadableError);
    expect(badCt).toMatchObject({ code: "xapi.credentials_unreadable", status: 500 });
    const tag = Buffer.from(sealed.tag, "base64url");
    tag[3] = (tag[3] ?? 0) ^ 0x80;
    const badTag = await rejection(cipher.decrypt({ ...sealed, tag: tag.toString("base64url") }, "route-1"));
    expect(badTag).toBeInstanceOf(CredentialsUnreadableError);
  });

  it("refuses credentials sealed for another route (associated data)", async () => {
    const cipher = createAesGcmCipher({ current: key1 });
    const sealed = await cipher.encrypt(SECRET, "route-1");
    expect(await rejection(cipher.decrypt(sealed, "route-2"))).toBeInstanceOf(CredentialsUnreadableError);
  });

  it("opens secrets sealed with a previous key after rotation, and refuses unknown keys", async () => {
    const old = await createAesGcmCipher({ current: key1 }).encrypt(SECRET, "route-1");
    const rotated = createAesGcmCipher({ current: key2, previous: [key1] });
    expect(await rotated.decrypt(old, "route-1")).toBe(SECRET);
    expect((await rotated.encrypt(SECRET, "route-1")).kid).toBe("k2");
    const unknown = await rejection(createAesGcmCipher({ current: key2 }).decrypt(old, "route-1"));
    expect(unknown).toBeInstanceOf(CredentialsUnreadableError);
  });

  it("rejects keys that are not 32 bytes", () => {
    expect(() => createAesGcmCipher({ current: { kid: "short", key: randomBytes(16) } })).toThrow(TypeError);
  });
});

describe("decrypted LRS credentials", () => {
  it("never show the secret when logged, serialised or printed", async () => {
    const { inspect } = await import("node:util");
    const credentials = new LrsCredentials("lrs-key", "s3cret-pa55");
    expect(JSON.stringify({ credentials })).toBe('{"credentials":"[redacted]"}');
    expect(inspect({ credentials })).not.toContain("s3cret");
    expect(`${credentials}`).toBe("[redacted]");
    expect(credentials.authorizationHeader()).toBe(
      `Basic ${Buffer.from("lrs-key:s3cret-pa55").toString("base64")}`,
    );
  });
});
