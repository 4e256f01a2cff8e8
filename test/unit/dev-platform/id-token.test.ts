import { createLocalJWKSet, decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { CLAIM, CONTEXT_TYPE, type DevPlatform, ROLE } from "../../../dev/platform/index.js";
import {
  authParams,
  CLIENT_ID,
  field,
  newPlatform,
  onlyForm,
  PLATFORM_URL,
  requestAuth,
  TOOL,
} from "./fixtures.js";

const NOW = Date.UTC(2025, 8, 1, 9, 30, 0);
let platform: DevPlatform;
beforeAll(async () => {
  platform = await newPlatform({ now: () => NOW });
});

async function idTokenFor(p: DevPlatform, user: string, course = "2"): Promise<string> {
  const res = await requestAuth(p, authParams(p, user, course));
  const token = field(onlyForm(await res.text(), PLATFORM_URL), "id_token");
  if (!token) throw new Error("no id_token");
  return token;
}

/** Verifies as a tool does: against the JWKS the platform publishes at /mod/lti/certs.php. */
async function verify(token: string, currentDate = new Date(NOW)): Promise<JWTPayload> {
  const res = await platform.app.request(`${PLATFORM_URL}/mod/lti/certs.php`);
  const jwks = createLocalJWKSet(await res.json());
  const { payload } = await jwtVerify(token, jwks, {
    issuer: PLATFORM_URL,
    audience: CLIENT_ID,
    algorithms: ["RS256"],
    currentDate,
  });
  return payload;
}

describe("the id_token of an LtiResourceLinkRequest", () => {
  let token: string;
  let claims: JWTPayload;
  beforeAll(async () => {
    token = await idTokenFor(platform, "candidate");
    claims = await verify(token);
  });

  it("is RS256 with the platform's current kid in the header", () => {
    expect(decodeProtectedHeader(token)).toEqual({ typ: "JWT", alg: "RS256", kid: platform.kid() });
  });

  it("carries the OIDC claims", () => {
    expect(claims).toMatchObject({
      iss: "http://localhost:8790",
      aud: CLIENT_ID,
      azp: CLIENT_ID,
      sub: "4",
      nonce: "nonce-456",
      iat: NOW / 1000,
      name: "Sam Taylor",
      given_name: "Sam",
      family_name: "Taylor",
      email: "sam.taylor@dev-platform.test",
      locale: "en",
    });
  });

  it("carries every LTI Core claim of a resource link launch", () => {
    expect(claims[CLAIM.messageType]).toBe("LtiResourceLinkRequest");
    expect(claims[CLAIM.version]).toBe("1.3.0");
    expect(claims[CLAIM.deploymentId]).toBe("1");
    expect(claims[CLAIM.targetLinkUri]).toBe(TOOL.targetLinkUri);
    expect(claims[CLAIM.resourceLink]).toEqual({ id: "1", title: "HLTA preparation", description: "" });
    expect(claims[CLAIM.roles]).toEqual([ROLE.learner]);
    expect(claims[CLAIM.context]).toEqual({
      id: "2",
      label: "HLTA-SEP25",
      title: "HLTA preparation: September 2025 cohort",
      type: [CONTEXT_TYPE.courseSection],
    });
    expect(claims[CLAIM.toolPlatform]).toEqual({
      guid: "localhost",
      name: "HLTA Development Moodle",
      product_family_code: "moodle",
      version: "2024100700",
    });
    expect(claims[CLAIM.launchPresentation]).toEqual({
      locale: "en",
      document_target: "iframe",
      return_url: "http://localhost:8790/mod/lti/return.php?course=2&launch_container=3&instanceid=1&user=4",
    });
    expect(claims[CLAIM.custom]).toEqual({});
    expect(claims[CLAIM.lis]).toEqual({
      person_sourcedid: "CAND-0004",
      course_section_sourcedid: "HLTA-2025-09",
    });
    expect(claims[CLAIM.ext]).toEqual({ user_username: "candidate", lms: "moodle-2" });
  });

  it("expires 60 seconds after issue, as Moodle's do", async () => {
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(60);
    await expect(verify(token, new Date(NOW + 59_000))).resolves.toBeDefined();
    await expect(verify(token, new Date(NOW + 61_000))).rejects.toBeInstanceOf(errors.JWTExpired);
  });

  it("says where the tool is shown: a new-window launch has document_target window", async () => {
    const login = platform.loginInitiation({ course: "2", user: "candidate", target: "window" });
    const hint = login.fields.find((f) => f.name === "lti_message_hint")?.value ?? "";
    const res = await requestAuth(platform, { ...authParams(platform), lti_message_hint: hint });
    const windowed = await verify(field(onlyForm(await res.text(), PLATFORM_URL), "id_token") ?? "");
    expect(windowed[CLAIM.launchPresentation]).toMatchObject({ document_target: "window" });
  });

  it("can leave out the OIDC locale claim, as real Moodle does", async () => {
    const moodleExact = await newPlatform({ now: () => NOW, oidcLocale: false });
    const payload = await jwtVerify(
      await idTokenFor(moodleExact, "candidate-cy"),
      createLocalJWKSet(moodleExact.jwks()),
      {
        currentDate: new Date(NOW),
      },
    );
    expect(payload.payload.locale).toBeUndefined();
    expect(payload.payload[CLAIM.launchPresentation]).toMatchObject({ locale: "cy" });
  });
});

describe("roles and locale per person", () => {
  it.each([
    ["candidate", [ROLE.learner], "en"],
    ["candidate-cy", [ROLE.learner], "cy"],
    ["tutor", [ROLE.instructor], "en"],
    // Moodle: a site admin is Instructor plus institution and system Administrator, sorted.
    ["admin", [ROLE.institutionAdministrator, ROLE.instructor, ROLE.systemAdministrator], "en"],
  ])("%s", async (user, roles, locale) => {
    const claims = await verify(await idTokenFor(platform, user));
    expect(claims[CLAIM.roles]).toEqual(roles);
    expect(claims.locale).toBe(locale);
    expect(claims[CLAIM.launchPresentation]).toMatchObject({ locale });
  });

  it("uses full role URIs", () => {
    expect(ROLE.learner).toBe("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner");
    expect(ROLE.institutionAdministrator).toBe(
      "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
    );
  });
});
