import { describe, expect, it } from "vitest";
import { keys } from "../../../adapters/dynamo/table.js";

describe("keys with escaped parts", () => {
  it("keeps a real tenant's xAPI settings key readable, as it was", () => {
    expect(keys.xapiSettings("https://moodle.school.uk", "client#1").pk).toBe(
      "XAPISETTINGS#https%3A%2F%2Fmoodle.school.uk#client%231",
    );
  });

  it("fits a partition key however long the issuer and client id the schemas allow", () => {
    // 1,024 bytes of issuer and 400 of client id, each tripled by escaping if kept as they are.
    const issuer = `https://lms.example/${"/".repeat(1004)}`;
    const pk = keys.xapiSettings(issuer, "é".repeat(200)).pk;
    expect(Buffer.byteLength(pk, "utf8")).toBeLessThanOrEqual(2048);
    // Still one key per tenant: another issuer gets another key.
    expect(keys.xapiSettings(`${issuer}x`, "é".repeat(200)).pk).not.toBe(pk);
  });

  it("keeps a client id from posing as another client's deployment, and plain ids as they were", () => {
    const issuer = "https://canvas.instructure.com";
    expect(keys.platform(issuer, "A#DEPLOYMENT#1").sk).not.toBe(keys.deployment(issuer, "A", "1").sk);
    expect(keys.deployment(issuer, "A", "1#X").sk).not.toBe(
      keys.deployment(issuer, "A#DEPLOYMENT#1", "X").sk,
    );
    // Real ids (Canvas's "123:abc…", Moodle's numbers) keep the keys they had.
    expect(keys.platform(issuer, "10000000000001").sk).toBe("CLIENT#10000000000001");
    expect(keys.deployment(issuer, "10000000000001", "123:abc").sk).toBe(
      "CLIENT#10000000000001#DEPLOYMENT#123:abc",
    );
    expect(keys.deployment(issuer, "A", "50%").sk).toBe("CLIENT#A#DEPLOYMENT#50%25");
  });

  it("keeps a client and a deployment id full of escaped characters within a sort key", () => {
    // 200 '%' each pass the 400-byte bound on ids; escaped as they are they would triple.
    const sk = keys.deployment("https://lms.test", "%".repeat(200), "#".repeat(200)).sk;
    expect(Buffer.byteLength(sk, "utf8")).toBeLessThanOrEqual(1024);
    expect(keys.deployment("https://lms.test", "%".repeat(200), "#".repeat(199)).sk).not.toBe(sk);
    // A raw id shaped like a hashed one stays apart from it.
    const hashed = sk.split("#DEPLOYMENT#")[1] ?? "";
    expect(hashed).toMatch(/^%h:/);
    expect(keys.deployment("https://lms.test", "%".repeat(200), hashed.slice(1)).sk).not.toBe(sk);
  });
});
