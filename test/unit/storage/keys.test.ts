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
});
