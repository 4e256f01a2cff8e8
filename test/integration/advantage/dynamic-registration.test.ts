/**
 * Dynamic Registration 1.0 over real HTTP: the development platform (Moodle 4.x) opens the
 * tool's registration page, the administrator confirms, the tool reads the platform's OpenID
 * configuration and posts its client registration; the platform holds the new tool as pending.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoPlatformKeyStore } from "../../../adapters/dynamo/platform-keys.js";
import { DynamoRegistrationStore } from "../../../adapters/dynamo/registrations.js";
import {
  CLAIM,
  LaunchFlowError,
  launch,
  MESSAGE_TYPE,
  parseForms,
  type RunningDevPlatform,
  SERVICE_SCOPES,
  submitForm,
} from "../../../dev/platform/index.js";
import { registrationLinkPath } from "../../support/app-launch.js";
import {
  closedPort,
  followToApp,
  openInWindow,
  pageText,
  type Stack,
  startPlatform,
  startStack,
} from "./harness.js";

let stack: Stack;
let platform: RunningDevPlatform;

beforeAll(async () => {
  stack = await startStack();
  // The platform's hand-configured tool is NOT registered in our tool: only Dynamic Registration is.
  platform = await startPlatform(stack, { register: false });
});
afterAll(async () => {
  await platform?.stop();
  await stack?.stop();
});

/** The registration link the provider gave this LMS: a fresh one for each test (a link works once). */
let link = "";
beforeEach(async () => {
  link = `${stack.tool.url}${await registrationLinkPath(stack.tool.deps, "development Moodle")}`;
});
const registrationUrl = () => link;
const store = () => new DynamoRegistrationStore(stack.aws.doc, stack.aws.tableName);

/** The admin's "register a tool by URL": the tool's confirm page, opened in a window by the LMS. */
async function openRegistration() {
  const start = await platform.platform.startDynamicRegistration(registrationUrl());
  const params = new URL(start).searchParams;
  const page = await openInWindow(start, platform.url);
  return {
    page,
    openidConfiguration: params.get("openid_configuration") ?? "",
    registrationToken: params.get("registration_token") ?? "",
  };
}

/** Registers the tool dynamically (confirm, register) and returns the platform's new tool. */
async function registerDynamically() {
  const { page } = await openRegistration();
  const done = await submitForm(page);
  expect(done.status).toBe(200);
  const record = platform.platform.registrations().at(-1);
  expect(record?.status).toBe(200);
  const tool = platform.platform.tools().find((t) => t.clientId === record?.clientId);
  if (!tool) throw new Error("The platform created no tool.");
  return tool;
}

describe("Dynamic Registration with the development platform (Moodle)", () => {
  it("posts exactly the client registration the spec asks for, with the registration token, and tells the admin the tool is pending", async () => {
    const { page, openidConfiguration, registrationToken } = await openRegistration();
    expect(openidConfiguration).toBe(platform.platform.urls.openIdConfiguration);
    expect(registrationToken).not.toBe("");

    // The confirm page: one form that posts both parameters back to the tool.
    expect(page.status).toBe(200);
    const [form] = parseForms(page.html, page.url);
    expect(form?.method).toBe("post");
    expect(form?.action).toBe(registrationUrl());
    expect(Object.fromEntries(form?.fields ?? [])).toEqual({
      openid_configuration: openidConfiguration,
      registration_token: registrationToken,
    });

    const callsBefore = platform.platform.serviceCalls().length;
    const registrationsBefore = platform.platform.registrations().length;
    const done = await submitForm(page); // the admin clicks "Register"

    // The tool read the OpenID configuration, presenting the registration token.
    const calls = platform.platform.serviceCalls().slice(callsBefore);
    const configRead = calls.find((c) => c.method === "GET" && c.url === openidConfiguration);
    expect(configRead?.status).toBe(200);
    expect(configRead?.headers.authorization).toBe(`Bearer ${registrationToken}`);

    // Exactly one registration POST, with the bearer registration token, as JSON.
    const posted = platform.platform.registrations().slice(registrationsBefore);
    expect(posted).toHaveLength(1);
    const record = posted[0];
    expect(record?.status).toBe(200);
    expect(record?.authorization).toBe(`Bearer ${registrationToken}`);
    expect(record?.contentType?.split(";")[0]?.trim()).toBe("application/json");

    const tool = stack.tool.url;
    const targetLinkUri = `${tool}/app`;
    const body = record?.body as Record<string, unknown>;
    const { scope, ...rest } = body;
    // scope is a set (RFC 6749 §3.3): every AGS scope and NRPS, which this platform offers.
    expect(typeof scope).toBe("string");
    expect(String(scope).split(" ").sort()).toEqual([...SERVICE_SCOPES].sort());
    expect(rest).toStrictEqual({
      application_type: "web",
      response_types: ["id_token"],
      grant_types: ["implicit", "client_credentials"],
      initiate_login_uri: `${tool}/lti/login`,
      redirect_uris: [`${tool}/lti/launch`],
      client_name: stack.tool.deps.config.toolName,
      jwks_uri: `${tool}/.well-known/jwks.json`,
      token_endpoint_auth_method: "private_key_jwt",
      [CLAIM.toolConfiguration]: {
        // host[:port] of target_link_uri, port included (the tool runs on a loopback port).
        domain: new URL(targetLinkUri).host,
        description: expect.any(String),
        target_link_uri: targetLinkUri,
        claims: expect.any(Array),
        messages: [
          {
            type: MESSAGE_TYPE.resourceLink,
            target_link_uri: targetLinkUri,
            label: expect.any(String),
            placements: expect.any(Array),
          },
          {
            type: MESSAGE_TYPE.deepLinking,
            target_link_uri: expect.stringMatching(new RegExp(`^${tool.replaceAll(".", "\\.")}/`)),
            label: expect.any(String),
            // The only placement this platform's configuration offers for deep linking.
            placements: ["ContentArea"],
          },
        ],
      },
    });
    const config = rest[CLAIM.toolConfiguration] as { claims: string[]; description: string };
    // The identity claims the tool keeps from a launch: who, their name, email and language.
    expect([...config.claims].sort()).toEqual(
      ["iss", "sub", "name", "given_name", "family_name", "email", "locale"].sort(),
    );
    expect(config.description.trim()).not.toBe("");

    // The done page: Moodle holds the tool as Pending, and the page closes the LMS's dialog.
    expect(done.status).toBe(200);
    const text = pageText(done.html);
    expect(text).toContain("Pending");
    expect(text).toContain(String(record?.clientId));
    expect(done.html).toMatch(/<script\b[^>]*>[^<]*org\.imsglobal\.lti\.close[^<]*<\/script>/);
    // The LMS's keys were fetched by the tool and kept in its table for its instances.
    expect(done.html).not.toContain('id="keys-problem"');
    const kept = await new DynamoPlatformKeyStore(stack.aws.doc, stack.aws.tableName).get(
      platform.platform.urls.jwks,
    );
    expect(kept?.jwks.keys.length).toBeGreaterThan(0);

    // The platform created the tool, pending, with the deployment it answered.
    const created = platform.platform.tools().find((t) => t.clientId === record?.clientId);
    const answered = (record?.response[CLAIM.toolConfiguration] as { deployment_id?: string } | undefined)
      ?.deployment_id;
    expect(created?.status).toBe("pending");
    expect(created?.deploymentId).toBe(answered);
    expect(created?.registeredBy).toBe("dynamic-registration");
  });

  it("stores the platform and its deployment, and launches once the LMS administrator activates the tool", async () => {
    const created = await registerDynamically();

    const saved = await store().getPlatform(platform.url, created.clientId);
    expect(saved).toMatchObject({
      issuer: platform.url,
      clientId: created.clientId,
      authUrl: platform.platform.urls.auth,
      tokenUrl: platform.platform.urls.token,
      jwksUrl: platform.platform.urls.jwks,
    });
    const deployment = await store().getDeployment(platform.url, created.clientId, created.deploymentId);
    expect(deployment).toMatchObject({
      issuer: platform.url,
      clientId: created.clientId,
      deploymentId: created.deploymentId,
    });

    // An activity of the new tool in course 2; while pending, the platform will not launch it.
    const link = platform.platform.addLink({
      course: "2",
      title: "HLTA preparation",
      tool: created.clientId,
    });
    const refused = await launch({
      platformUrl: platform.url,
      course: "2",
      user: "candidate",
      link: link.id,
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LaunchFlowError);
    expect((refused as LaunchFlowError).step).toBe("start");
    expect((refused as LaunchFlowError).status).toBe(403);

    platform.platform.activateTool(created.clientId);
    const launched = await launch({
      platformUrl: platform.url,
      course: "2",
      user: "candidate",
      link: link.id,
    });
    expect(launched.status).toBe(303);
    const page = await followToApp(stack.tool, launched.headers.get("location"));
    expect(page.status).toBe(200);
    expect(page.html).toContain("Your HLTA preparation");

    // The registered deep-linking URL works too: a tutor gets the activity picker.
    const picker = await launch({
      platformUrl: platform.url,
      course: "2",
      user: "tutor",
      message: "deep-linking",
      tool: created.clientId,
    });
    expect(picker.status).toBe(200);
    expect(parseForms(picker.html, picker.url)[0]?.fields.some(([name]) => name === "dl")).toBe(true);
  });

  it("shows the platform's reason, with 502, when the platform refuses a bad registration token", async () => {
    const url = new URL(registrationUrl());
    url.searchParams.set("openid_configuration", platform.platform.urls.openIdConfiguration);
    url.searchParams.set("registration_token", "not-a-registration-token");
    const toolsBefore = platform.platform.tools().length;
    const platformsBefore = (await store().listPlatforms()).length;

    const confirm = await openInWindow(url.toString(), platform.url);
    expect(confirm.status).toBe(200);
    const failed = await submitForm(confirm);

    const record = platform.platform.registrations().at(-1);
    expect(record?.status).toBe(401);
    expect(record?.authorization).toBe("Bearer not-a-registration-token");
    const reason = String(record?.response.error_description);
    expect(failed.status).toBe(502);
    expect(failed.headers.get("content-type")).toMatch(/^text\/html/);
    expect(pageText(failed.html)).toContain(reason);
    expect(platform.platform.tools()).toHaveLength(toolsBefore);
    expect(await store().listPlatforms()).toHaveLength(platformsBefore);
  });

  it("refuses the confirmation posted again (its link is spent) without asking the LMS again", async () => {
    const { page } = await openRegistration();
    const first = await submitForm(page);
    expect(first.status).toBe(200);
    const toolsAfterFirst = platform.platform.tools().length;
    const registrationsAfterFirst = platform.platform.registrations().length;

    const again = await submitForm(page); // the admin goes back and clicks "Register" again
    expect(again.status).toBe(403);
    expect(pageText(again.html)).toContain("already been used");
    expect(platform.platform.registrations()).toHaveLength(registrationsAfterFirst);
    expect(platform.platform.tools()).toHaveLength(toolsAfterFirst);
  });

  it("says which address could not be read, with 502, when the platform's configuration is unreachable", async () => {
    const port = await closedPort();
    const unreachable = `http://127.0.0.1:${port}/mod/lti/openid-configuration.php`;
    const url = new URL(registrationUrl());
    url.searchParams.set("openid_configuration", unreachable);
    url.searchParams.set("registration_token", "any");
    const registrationsBefore = platform.platform.registrations().length;

    const confirm = await openInWindow(url.toString(), platform.url);
    expect(confirm.status).toBe(200);
    const failed = await submitForm(confirm);
    expect(failed.status).toBe(502);
    expect(failed.headers.get("content-type")).toMatch(/^text\/html/);
    expect(pageText(failed.html)).toContain(`127.0.0.1:${port}`);
    expect(platform.platform.registrations()).toHaveLength(registrationsBefore);
  });

  it("spends the link on a registration, and refuses it (403) afterwards and without one", async () => {
    await registerDynamically();
    const again = await openRegistration();
    expect(again.page.status).toBe(403);
    const bare = await fetch(`${stack.tool.url}/lti/register`, { signal: AbortSignal.timeout(10_000) });
    expect(bare.status).toBe(403);
    await bare.body?.cancel();
  });

  it("answers 400 with a page when the registration parameters are missing", async () => {
    const bare = await fetch(registrationUrl(), { signal: AbortSignal.timeout(10_000) });
    expect(bare.status).toBe(400);
    expect(bare.headers.get("content-type")).toMatch(/^text\/html/);
    await bare.body?.cancel();

    const tokenOnly = await fetch(`${registrationUrl()}?registration_token=abc`, {
      signal: AbortSignal.timeout(10_000),
    });
    expect(tokenOnly.status).toBe(400);
    await tokenOnly.body?.cancel();

    const registrationsBefore = platform.platform.registrations().length;
    const emptyPost = await fetch(registrationUrl(), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ registration_token: "abc" }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(emptyPost.status).toBe(400);
    await emptyPost.body?.cancel();
    expect(platform.platform.registrations()).toHaveLength(registrationsBefore);
  });
});
