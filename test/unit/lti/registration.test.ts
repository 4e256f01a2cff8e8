import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../domain/errors.js";
import { registerPlatform } from "../../../lti-tool/registration.js";
import { MemoryRegistrationStore } from "../../support/memory-stores.js";

const input = {
  issuer: "https://moodle.school.test",
  clientId: "abc",
  authUrl: "https://moodle.school.test/mod/lti/auth.php",
  tokenUrl: "https://moodle.school.test/mod/lti/token.php",
  jwksUrl: "https://moodle.school.test/mod/lti/certs.php",
  deploymentIds: ["1"],
};

describe("registering a platform: bad input gets field-by-field errors, never a crash", () => {
  it("names every field that is not a URL, once each, and stores nothing", async () => {
    const store = new MemoryRegistrationStore();
    const error = await registerPlatform(
      { ...input, issuer: "moodle", authUrl: "str", tokenUrl: "not a url/" },
      store,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const paths = (error as ValidationError).issues.map((i) => i.path);
    expect(paths.sort()).toEqual(["authUrl", "issuer", "tokenUrl"]);
    expect(store.platforms.size).toBe(0);
  });

  it("still refuses plain http off loopback and a trailing slash on the issuer", async () => {
    const store = new MemoryRegistrationStore();
    const error = await registerPlatform(
      { ...input, issuer: "https://moodle.school.test/", jwksUrl: "http://moodle.school.test/certs" },
      store,
    ).catch((e: unknown) => e);
    expect((error as ValidationError).issues.map((i) => i.path).sort()).toEqual(["issuer", "jwksUrl"]);
    await expect(registerPlatform(input, store)).resolves.toMatchObject({ clientId: "abc" });
  });

  it.each([
    ["a query", "https://moodle.school.test?x=1"],
    ["a fragment", "https://moodle.school.test/#main"],
    ["an empty query", "https://moodle.school.test/moodle?"],
  ])("refuses an issuer with %s, which no token's iss would match", async (_, issuer) => {
    const store = new MemoryRegistrationStore();
    const error = await registerPlatform({ ...input, issuer }, store).catch((e: unknown) => e);
    expect((error as ValidationError).issues).toEqual([
      expect.objectContaining({
        path: "issuer",
        message: expect.stringContaining("without any ? or # part"),
      }),
    ]);
    expect(store.platforms.size).toBe(0);
  });

  it("refuses an issuer, client id or deployment id that is not plain text, which keys could not tell apart", async () => {
    const store = new MemoryRegistrationStore();
    // A lone surrogate hashes as U+FFFD's bytes: "1\ud800" and "1\udbff" would be one tenant.
    const error = await registerPlatform(
      {
        ...input,
        issuer: "https://moodle.school.test/\ud800",
        clientId: "abc\u0007",
        deploymentIds: ["1\udbff", "2"],
      },
      store,
    ).catch((e: unknown) => e);
    expect((error as ValidationError).issues.map((i) => [i.path, i.message])).toEqual([
      ["issuer", "must not contain control characters or unreadable bytes"],
      ["clientId", "must not contain control characters or unreadable bytes"],
      ["deploymentIds.0", "must not contain control characters or unreadable bytes"],
    ]);
    expect(store.platforms.size).toBe(0);
  });

  it("refuses a blank client id or deployment id, or one with spaces around it", async () => {
    const store = new MemoryRegistrationStore();
    const error = await registerPlatform(
      { ...input, clientId: " ", deploymentIds: ["1", "2 "] },
      store,
    ).catch((e: unknown) => e);
    expect((error as ValidationError).issues.map((i) => i.path).sort()).toEqual([
      "clientId",
      "deploymentIds.1",
    ]);
    expect(store.platforms.size).toBe(0);
  });
});

describe("registering a platform again", () => {
  it("keeps the name and authorization server the new input does not give", async () => {
    const store = new MemoryRegistrationStore();
    await registerPlatform(
      { ...input, name: "Named LMS", authServer: "https://lms.example/oauth2", deploymentIds: ["1"] },
      store,
    );
    const again = await registerPlatform({ ...input, deploymentIds: ["2"] }, store);
    expect(again).toMatchObject({ name: "Named LMS", authServer: "https://lms.example/oauth2" });
    const renamed = await registerPlatform({ ...input, name: "Renamed", deploymentIds: ["2"] }, store);
    expect(renamed.name).toBe("Renamed");
  });
});
