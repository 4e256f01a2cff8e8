import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileToolKeyStore } from "../../../adapters/file/tool-keys.js";
import type { ToolKey } from "../../../lti-tool/ports.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function keyFile() {
  const dir = mkdtempSync(join(tmpdir(), "hlta-keys-"));
  dirs.push(dir);
  return join(dir, "keys", "tool-keys.json");
}
const key = (kid: string): ToolKey => ({
  kid,
  alg: "RS256",
  publicJwk: { kty: "RSA", n: `n-${kid}`, e: "AQAB" },
  privateJwk: { kty: "RSA", n: `n-${kid}`, e: "AQAB", d: `d-${kid}` },
  createdAt: "2026-11-24T10:00:00.000Z",
});

describe("the local key file (npm start and npm run keys)", () => {
  it("keeps keys and secrets across instances, in a file only its owner can read", async () => {
    const path = keyFile();
    const first = new FileToolKeyStore(path);
    await first.addKey(key("k1"));
    await first.addKey(key("k2"));
    await first.markSuperseded("k1", "2026-11-24T11:00:00.000Z");
    const secret = await first.getOrCreateSecret("admin", () => new Uint8Array([1, 2, 3]));

    const second = new FileToolKeyStore(path);
    expect((await second.listKeys()).map((k) => [k.kid, k.supersededAt])).toEqual([
      ["k1", "2026-11-24T11:00:00.000Z"],
      ["k2", undefined],
    ]);
    expect(await second.getOrCreateSecret("admin", () => new Uint8Array([9]))).toEqual(Buffer.from(secret));
    await second.removeKey("k1");
    expect((await new FileToolKeyStore(path).listKeys()).map((k) => k.kid)).toEqual(["k2"]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("replaces a secret, and keeps when administration sessions are valid from, never moving it back", async () => {
    const path = keyFile();
    const first = new FileToolKeyStore(path);
    await first.getOrCreateSecret("admin-key", () => new Uint8Array([1, 2, 3]));
    await first.getOrCreateSecret("session-hmac", () => new Uint8Array([7]));
    expect(await first.adminSessionsValidFrom()).toBeUndefined();
    await first.replaceSecret("admin-key", new Uint8Array([4, 5, 6]));
    await first.replaceSecret("new-one", new Uint8Array([8]));
    await first.endAdminSessions(new Date(1_000_000));

    // Another process (`npm run keys` beside `npm start`) reads what this one wrote.
    const second = new FileToolKeyStore(path);
    expect(await second.getOrCreateSecret("admin-key", () => new Uint8Array([9]))).toEqual(
      Buffer.from([4, 5, 6]),
    );
    expect(await second.getOrCreateSecret("new-one", () => new Uint8Array([9]))).toEqual(Buffer.from([8]));
    expect(await second.getOrCreateSecret("session-hmac", () => new Uint8Array([9]))).toEqual(
      Buffer.from([7]),
    );
    expect(await second.adminSessionsValidFrom()).toBe(1_000_000);
    // A sign-out by a clock behind ends nothing less; a later one moves it on.
    await second.endAdminSessions(new Date(999_000));
    expect(await first.adminSessionsValidFrom()).toBe(1_000_000);
    await second.endAdminSessions(new Date(1_000_001));
    expect(await first.adminSessionsValidFrom()).toBe(1_000_001);
    // Signing keys are untouched by either.
    await first.addKey(key("k1"));
    await second.endAdminSessions(new Date(2_000_000));
    expect((await first.listKeys()).map((k) => k.kid)).toEqual(["k1"]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("has no keys before the first start", async () => {
    expect(await new FileToolKeyStore(keyFile()).listKeys()).toEqual([]);
  });

  it.each([
    ["empty", ""],
    ["cut short", '{"keys":[{"kid":"k1",'],
    ["of another shape", '{"keys":"none"}'],
  ])("names the file and what to do when it is %s", async (_, text) => {
    const path = keyFile();
    await new FileToolKeyStore(path).addKey(key("k1"));
    writeFileSync(path, text);
    await expect(new FileToolKeyStore(path).listKeys()).rejects.toThrow(
      `The key file ${path} is damaged. Move it away to generate new keys`,
    );
  });
});
