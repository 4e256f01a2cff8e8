import { describe, expect, it } from "vitest";
import { form, registrationLinkPath } from "../../support/app-launch.js";
import { memoryApp } from "../../support/memory-app.js";
import { CONFIG_URL, REGISTERING_LMS, registeringLms } from "../../support/registering-lms.js";
import { CLIENT_ID, ISSUER, testPlatform } from "../../support/test-platform.js";

describe("dynamic registration: one LMS cannot take another's client id", () => {
  it("refuses, and saves nothing, when the LMS answers with a client id another LMS has with the tool", async () => {
    const school = await testPlatform(); // registered: ISSUER with CLIENT_ID
    const { app, deps } = await memoryApp(school, {
      fetch: registeringLms(CLIENT_ID, { authorizationServer: `${ISSUER}/mod/lti/token.php` }).fetchImpl,
    });
    const res = await app.request(
      await registrationLinkPath(deps),
      form({ openid_configuration: CONFIG_URL }),
    );
    expect(res.status).toBe(409);
    const page = await res.text();
    expect(page).toContain("another LMS already uses");
    // The other LMS's issuer is not told which LMS that is.
    expect(page).not.toContain(ISSUER);
    expect(await school.registrations.getPlatform(REGISTERING_LMS, CLIENT_ID)).toBeUndefined();
    expect((await school.registrations.platformsWithClientId(CLIENT_ID)).map((p) => p.issuer)).toEqual([
      ISSUER,
    ]);
  });

  it("registers the same LMS with a client id of its own", async () => {
    const school = await testPlatform();
    const { app, deps } = await memoryApp(school, { fetch: registeringLms("its-own-client").fetchImpl });
    const res = await app.request(
      await registrationLinkPath(deps),
      form({ openid_configuration: CONFIG_URL }),
    );
    expect(res.status).toBe(200);
    expect(await school.registrations.getPlatform(REGISTERING_LMS, "its-own-client")).toMatchObject({
      issuer: REGISTERING_LMS,
    });
  });
});
