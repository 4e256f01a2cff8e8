import { describe, expect, it } from "vitest";
import { form } from "../../support/app-launch.js";
import { memoryApp } from "../../support/memory-app.js";
import { CLIENT_ID, ISSUER, testPlatform } from "../../support/test-platform.js";

const OTHER = "https://other-lms.test";
const CONFIG_URL = `${OTHER}/.well-known/openid-configuration`;

/**
 * Another LMS that registers the tool dynamically (anyone may open the registration page) and
 * answers with the client id it chooses: here a school's client id, seen in that school's
 * login requests, with the school's token endpoint as `authorization_server`.
 */
function otherLms(clientId: string) {
  const fetchImpl: typeof fetch = async (input) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url === CONFIG_URL) {
      return Response.json({
        issuer: OTHER,
        authorization_endpoint: `${OTHER}/auth`,
        token_endpoint: `${OTHER}/token`,
        jwks_uri: `${OTHER}/jwks`,
        registration_endpoint: `${OTHER}/register`,
        authorization_server: `${ISSUER}/mod/lti/token.php`,
        "https://purl.imsglobal.org/spec/lti-platform-configuration": { product_family_code: "moodle" },
      });
    }
    if (url === `${OTHER}/register`) {
      return Response.json({
        client_id: clientId,
        "https://purl.imsglobal.org/spec/lti-tool-configuration": { deployment_id: "1" },
      });
    }
    return new Response("not found", { status: 404 });
  };
  return fetchImpl;
}

describe("dynamic registration: one LMS cannot take another's client id", () => {
  it("refuses, and saves nothing, when the LMS answers with a client id another LMS has with the tool", async () => {
    const school = await testPlatform(); // registered: ISSUER with CLIENT_ID
    const { app } = await memoryApp(school, { fetch: otherLms(CLIENT_ID) });
    const res = await app.request("/lti/register", form({ openid_configuration: CONFIG_URL }));
    expect(res.status).toBe(409);
    const page = await res.text();
    expect(page).toContain("another LMS already uses");
    // The other LMS's issuer is not told which LMS that is.
    expect(page).not.toContain(ISSUER);
    expect(await school.registrations.getPlatform(OTHER, CLIENT_ID)).toBeUndefined();
    expect((await school.registrations.platformsWithClientId(CLIENT_ID)).map((p) => p.issuer)).toEqual([
      ISSUER,
    ]);
  });

  it("registers the same LMS with a client id of its own", async () => {
    const school = await testPlatform();
    const { app } = await memoryApp(school, { fetch: otherLms("its-own-client") });
    const res = await app.request("/lti/register", form({ openid_configuration: CONFIG_URL }));
    expect(res.status).toBe(200);
    expect(await school.registrations.getPlatform(OTHER, "its-own-client")).toMatchObject({ issuer: OTHER });
  });
});
