import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { generatePlatformKeyPair } from "../../../dev/platform/index.js";
import { authParams, field, keyPair, newPlatform, onlyForm, PLATFORM_URL, requestAuth } from "./fixtures.js";

async function publishedJwks(platform: Awaited<ReturnType<typeof newPlatform>>) {
  const res = await platform.app.request(`${PLATFORM_URL}/mod/lti/certs.php`);
  expect(res.headers.get("content-type")).toContain("application/json");
  return res.json();
}

async function launchToken(platform: Awaited<ReturnType<typeof newPlatform>>): Promise<string> {
  const res = await requestAuth(platform, authParams(platform));
  return field(onlyForm(await res.text(), PLATFORM_URL), "id_token") ?? "";
}

describe("platform keys", () => {
  it("publishes one RS256 signing key at /mod/lti/certs.php", async () => {
    const platform = await newPlatform();
    const jwks = await publishedJwks(platform);
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({
      kty: "RSA",
      alg: "RS256",
      use: "sig",
      kid: platform.kid(),
      e: "AQAB",
    });
    expect(jwks.keys[0]).not.toHaveProperty("d");
  });

  it("keeps a stable kid for a given key pair", async () => {
    const a = await newPlatform();
    const b = await newPlatform();
    expect(a.kid()).toBe(b.kid());
    const named = await newPlatform({ keyPair: { ...(await keyPair()), kid: "moodle-kid-1" } });
    expect(named.kid()).toBe("moodle-kid-1");
  });

  it("rotateKey() signs with a new kid and drops the old key from the JWKS", async () => {
    const platform = await newPlatform();
    const oldKid = platform.kid();
    const oldJwks = createLocalJWKSet(await publishedJwks(platform));
    const before = await launchToken(platform);

    const newKid = await platform.rotateKey(await generatePlatformKeyPair());
    expect(newKid).not.toBe(oldKid);
    expect(platform.kid()).toBe(newKid);

    const jwks = await publishedJwks(platform);
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([newKid]);

    const after = await launchToken(platform);
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    // A tool holding the old JWKS finds no key for the new kid: it must re-fetch.
    await expect(jwtVerify(after, oldJwks)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    await expect(jwtVerify(after, createLocalJWKSet(jwks))).resolves.toBeDefined();
    // And a token signed before the rotation no longer verifies against the published set.
    await expect(jwtVerify(before, createLocalJWKSet(jwks))).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });

  it("generates a key pair per rotation when none is given", async () => {
    const platform = await newPlatform();
    const first = platform.kid();
    const second = await platform.rotateKey();
    expect(second).not.toBe(first);
  });
});
