import { describe, expect, it } from "vitest";
import { cliErrorMessage } from "../../../dev/cli.js";

describe("what the local commands say when a call fails", () => {
  it("says what to do about credentials, a missing table or a refusal, not the SDK's words", () => {
    // As the SDK's credential chain throws it (@smithy/property-provider's CredentialsProviderError).
    const named = (name: string, message = "Requested resource not found") =>
      Object.assign(new Error(message), { name });
    const noCredentials = named("CredentialsProviderError", "Could not load credentials from any providers");
    expect(cliErrorMessage(noCredentials)).toContain("set AWS_PROFILE");
    expect(cliErrorMessage(named("ResourceNotFoundException"))).toContain("check --table");
    expect(cliErrorMessage(named("ExpiredTokenException"))).toContain("sign in again");
    expect(cliErrorMessage(named("AccessDeniedException"))).toContain("may not read or write");
  });

  it("keeps any other error's own message, and copes with what is not an Error", () => {
    expect(cliErrorMessage(new Error("getaddrinfo ENOTFOUND dynamodb.eu-west-2.amazonaws.com"))).toBe(
      "getaddrinfo ENOTFOUND dynamodb.eu-west-2.amazonaws.com",
    );
    expect(cliErrorMessage("plain")).toBe("plain");
    expect(cliErrorMessage(undefined)).toBe("undefined");
  });
});
