import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { SCOPES } from "../../../lti-tool/advantage/service-client.js";
import { canvasConfiguration } from "../../../lti-tool/canvas-config.js";
import { CLAIM, type DeepLinkingClaims } from "../../../lti-tool/claims.js";
import {
  buildDeepLinkingResponse,
  type DeepLinkingContext,
  deepLinkingContext,
} from "../../../lti-tool/deep-linking.js";
import {
  MAX_ANSWER_BYTES,
  platformRegistrationInput,
  RegistrationConfigUnreachableError,
  RegistrationError,
  RegistrationRefusedError,
  registerWithPlatform,
} from "../../../lti-tool/dynamic-registration.js";
import { StoredKeySigner } from "../../../lti-tool/tool-keys.js";
import { MemoryToolKeyStore } from "../../support/memory-stores.js";
import { TOOL_URLS } from "../../support/test-platform.js";

/** Canvas's documented LTI 1.3 developer key JSON fields, strict: an unknown key fails. */
const CanvasPlacementSchema = z
  .object({
    placement: z.enum([
      "account_navigation",
      "assignment_selection",
      "course_navigation",
      "editor_button",
      "homework_submission",
      "link_selection",
      "migration_selection",
      "user_navigation",
      "resource_selection",
    ]),
    message_type: z.enum(["LtiResourceLinkRequest", "LtiDeepLinkingRequest"]),
    target_link_uri: z.string().url().optional(),
    text: z.string().optional(),
    icon_url: z.string().url().optional(),
    enabled: z.boolean().optional(),
    default: z.enum(["enabled", "disabled"]).optional(),
    visibility: z.enum(["admins", "members", "public"]).optional(),
    selection_height: z.number().optional(),
    selection_width: z.number().optional(),
    custom_fields: z.record(z.string(), z.string()).optional(),
  })
  .strict();
const CanvasConfigSchema = z
  .object({
    title: z.string().min(1),
    description: z.string(),
    oidc_initiation_url: z.string().url(),
    target_link_uri: z.string().url(),
    public_jwk_url: z.string().url().optional(),
    public_jwk: z.record(z.string(), z.unknown()).optional(),
    scopes: z.array(
      z.enum([
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
      ]),
    ),
    custom_fields: z.record(z.string(), z.string()).optional(),
    extensions: z.array(
      z
        .object({
          platform: z.literal("canvas.instructure.com"),
          domain: z.string().optional(),
          tool_id: z.string().optional(),
          privacy_level: z.enum(["anonymous", "name_only", "email_only", "public"]),
          settings: z
            .object({
              text: z.string().optional(),
              icon_url: z.string().optional(),
              placements: z.array(CanvasPlacementSchema).min(1),
            })
            .strict(),
        })
        .strict(),
    ),
  })
  .strict()
  .refine((c) => c.public_jwk_url || c.public_jwk, "public_jwk_url or public_jwk is required");

describe("Canvas JSON configuration", () => {
  it("has only Canvas's documented fields, with placements that make sense for this tool", () => {
    const config = canvasConfiguration(TOOL_URLS, "HLTA preparation");
    const parsed = CanvasConfigSchema.safeParse(config);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    const placements = config.extensions[0]?.settings.placements ?? [];
    expect(placements.map((p) => [p.placement, p.message_type])).toEqual([
      ["course_navigation", "LtiResourceLinkRequest"],
      ["link_selection", "LtiDeepLinkingRequest"],
      ["assignment_selection", "LtiDeepLinkingRequest"],
    ]);
    expect(config.extensions[0]?.domain).toBe("tool.test");
  });
});

describe("Deep Linking response", () => {
  const ctx: DeepLinkingContext = {
    issuer: "https://moodle.test",
    clientId: "tool-1",
    deploymentId: "1",
    returnUrl: "https://moodle.test/mod/lti/contentitem_return.php",
    data: "opaque-Δ-data",
    acceptMultiple: true,
    acceptLineItem: true,
  };
  const item = {
    type: "ltiResourceLink" as const,
    title: "Check your understanding: the standards",
    url: "https://tool.test/app/activity/module-standards",
    custom: { activity: "module-standards" },
    lineItem: { scoreMaximum: 100, label: "Standards", resourceId: "module-standards", tag: "hlta" },
  };

  it("is an RS256 JWT with every claim Deep Linking 2.0 §4.5 requires, data echoed exactly", async () => {
    const signer = new StoredKeySigner(new MemoryToolKeyStore());
    const key = await signer.ensureKey();
    const jwt = await buildDeepLinkingResponse(ctx, [item], signer, new Date("2026-11-23T10:00:00Z"));
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: "RS256", kid: key.kid });
    const claims = decodeJwt(jwt);
    expect(claims).toMatchObject({
      iss: "tool-1",
      aud: "https://moodle.test",
      iat: 1795428000,
      exp: 1795428300,
      "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiDeepLinkingResponse",
      "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
      "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "1",
      "https://purl.imsglobal.org/spec/lti-dl/claim/data": "opaque-Δ-data",
      "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": [item],
    });
    expect(typeof claims.nonce).toBe("string");
  });

  it("offers the line item unless the platform says it takes none (Moodle 4.x says nothing)", () => {
    const settings = {
      deep_link_return_url: "https://moodle.test/mod/lti/contentitem_return.php",
      accept_types: ["ltiResourceLink"],
      accept_presentation_document_targets: ["iframe", "window"],
    };
    const claims = (more: Record<string, unknown>) =>
      ({
        iss: "https://moodle.test",
        [CLAIM.deploymentId]: "1",
        [CLAIM.deepLinkingSettings]: { ...settings, ...more },
      }) as unknown as DeepLinkingClaims;
    expect(deepLinkingContext(claims({}), "tool-1").acceptLineItem).toBe(true);
    expect(deepLinkingContext(claims({ accept_lineitem: true }), "tool-1").acceptLineItem).toBe(true);
    expect(deepLinkingContext(claims({ accept_lineitem: false }), "tool-1").acceptLineItem).toBe(false);
  });

  it("drops line items when the platform does not accept them, and keeps one item when it accepts only one", async () => {
    const signer = new StoredKeySigner(new MemoryToolKeyStore());
    const jwt = await buildDeepLinkingResponse(
      { ...ctx, acceptLineItem: false, acceptMultiple: false },
      [item, { ...item, title: "2" }],
      signer,
    );
    const items = decodeJwt(jwt)["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"] as unknown[];
    expect(items).toHaveLength(1);
    expect(items[0]).not.toHaveProperty("lineItem");
  });
});

describe("Dynamic Registration, tool side", () => {
  const config = {
    issuer: "https://moodle.test",
    authorization_endpoint: "https://moodle.test/mod/lti/auth.php",
    token_endpoint: "https://moodle.test/mod/lti/token.php",
    jwks_uri: "https://moodle.test/mod/lti/certs.php",
    registration_endpoint: "https://moodle.test/mod/lti/openid-registration.php",
    scopes_supported: ["openid", SCOPES.score, SCOPES.lineItem, SCOPES.memberships],
    "https://purl.imsglobal.org/spec/lti-platform-configuration": {
      product_family_code: "moodle",
      messages_supported: [{ type: "LtiResourceLinkRequest" }, { type: "LtiDeepLinkingRequest" }],
    },
  };

  function platform(answer: (body: unknown, headers: Headers) => Response, cfg: unknown = config) {
    const seen: { body?: unknown; headers?: Headers; configHeaders?: Headers } = {};
    const fetchImpl: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.startsWith("https://moodle.test/mod/lti/openid-configuration.php")) {
        seen.configHeaders = new Headers(init?.headers);
        return Response.json(cfg);
      }
      if (url === config.registration_endpoint) {
        seen.body = JSON.parse(String(init?.body));
        seen.headers = new Headers(init?.headers);
        return answer(seen.body, seen.headers);
      }
      return new Response("", { status: 404 });
    };
    return { seen, fetchImpl };
  }

  const params = {
    openidConfiguration: "https://moodle.test/mod/lti/openid-configuration.php",
    registrationToken: "reg-tok",
  };

  it("posts the client registration Moodle needs, with the bearer registration token", async () => {
    const { seen, fetchImpl } = platform(() =>
      Response.json({
        client_id: "new-client",
        "https://purl.imsglobal.org/spec/lti-tool-configuration": { deployment_id: "4" },
      }),
    );
    const result = await registerWithPlatform(params, TOOL_URLS, "HLTA preparation", fetchImpl);
    expect(result).toMatchObject({ clientId: "new-client", deploymentId: "4" });
    expect(seen.configHeaders?.get("authorization")).toBe("Bearer reg-tok");
    expect(seen.headers?.get("authorization")).toBe("Bearer reg-tok");
    expect(seen.body).toEqual({
      application_type: "web",
      response_types: ["id_token"],
      grant_types: ["implicit", "client_credentials"],
      initiate_login_uri: TOOL_URLS.login,
      redirect_uris: [TOOL_URLS.launch],
      client_name: "HLTA preparation",
      jwks_uri: TOOL_URLS.jwks,
      token_endpoint_auth_method: "private_key_jwt",
      scope: [SCOPES.lineItem, SCOPES.score, SCOPES.memberships].join(" "),
      "https://purl.imsglobal.org/spec/lti-tool-configuration": {
        domain: "tool.test",
        description: expect.any(String),
        target_link_uri: TOOL_URLS.targetLinkUri,
        claims: ["iss", "sub", "name", "given_name", "family_name", "email", "locale"],
        messages: [
          {
            type: "LtiResourceLinkRequest",
            target_link_uri: TOOL_URLS.targetLinkUri,
            label: "HLTA preparation",
            placements: ["CourseNavigation"],
          },
          {
            type: "LtiDeepLinkingRequest",
            target_link_uri: TOOL_URLS.deepLinking,
            label: "Add an HLTA activity",
            placements: ["ContentArea"],
          },
        ],
      },
    });
  });

  it("stops when the configuration's issuer is not the site it came from", async () => {
    const { fetchImpl } = platform(() => Response.json({}), { ...config, issuer: "https://evil.test" });
    await expect(registerWithPlatform(params, TOOL_URLS, "x", fetchImpl)).rejects.toBeInstanceOf(
      RegistrationError,
    );
  });

  it("reports the platform's refusal with its reason", async () => {
    const { fetchImpl } = platform(() =>
      Response.json(
        { error: "invalid_client_metadata", error_description: "domain mismatch" },
        { status: 400 },
      ),
    );
    const error = await registerWithPlatform(params, TOOL_URLS, "x", fetchImpl).catch((e) => e);
    expect(error).toBeInstanceOf(RegistrationRefusedError);
    expect(error.userMessage).toContain("domain mismatch");
  });

  it.each([
    ["an authorization endpoint on plain http", { authorization_endpoint: "http://moodle.test/auth" }],
    ["an issuer with a trailing slash", { issuer: "https://moodle.test/" }],
    ["a registration endpoint on plain http", { registration_endpoint: "http://moodle.test/register" }],
  ])("checks what it would save before asking the LMS: %s", async (_name, change) => {
    const { seen, fetchImpl } = platform(() => Response.json({ client_id: "new-client" }), {
      ...config,
      ...change,
    });
    const error = await registerWithPlatform(params, TOOL_URLS, "x", fetchImpl).catch((e) => e);
    expect(error).toBeInstanceOf(RegistrationError);
    expect(error.status).toBe(400);
    // Named as the LMS's configuration names it.
    expect(error.userMessage).toMatch(/authorization_endpoint|issuer|registration endpoint/);
    // Nothing was posted: the LMS is not left with a registration the tool does not have.
    expect(seen.body).toBeUndefined();
  });

  it("keeps the name it derives within bounds, however long the product code", async () => {
    const { fetchImpl } = platform(() => Response.json({ client_id: "new-client" }), {
      ...config,
      "https://purl.imsglobal.org/spec/lti-platform-configuration": { product_family_code: "m".repeat(300) },
    });
    const result = await registerWithPlatform(params, TOOL_URLS, "x", fetchImpl);
    expect(platformRegistrationInput(result.config, result.clientId, undefined).name).toBe(
      `${"m".repeat(60)} at moodle.test`,
    );
  });

  it.each([
    ["longer than 255 characters", { client_id: "c".repeat(300) }],
    // A registration could not save it (RegisteredId): refused before the link is spent.
    ["with a space after it", { client_id: "abc " }],
    [
      "with a deployment id with a space before it",
      { client_id: "abc", "https://purl.imsglobal.org/spec/lti-tool-configuration": { deployment_id: " 1" } },
    ],
  ])(
    "refuses a client id it could not keep (%s) as the LMS's refusal, not a server error",
    async (_, answer) => {
      const { fetchImpl } = platform(() => Response.json(answer));
      await expect(registerWithPlatform(params, TOOL_URLS, "x", fetchImpl)).rejects.toBeInstanceOf(
        RegistrationRefusedError,
      );
    },
  );

  it("reads no more than it needs of a huge configuration or answer, and stops as unreachable", async () => {
    const huge = () =>
      new Response(
        new ReadableStream({
          start(controller) {
            // Endless in practice: 64 MB in 64 KB pieces, far past the cap.
            for (let i = 0; i < 1024; i++) controller.enqueue(new Uint8Array(64 * 1024).fill(32));
            controller.close();
          },
        }),
      );
    const bigAnswer = platform(() => huge());
    await expect(registerWithPlatform(params, TOOL_URLS, "x", bigAnswer.fetchImpl)).rejects.toBeInstanceOf(
      RegistrationConfigUnreachableError,
    );
    const bigConfig: typeof fetch = async () => huge();
    const error = await registerWithPlatform(params, TOOL_URLS, "x", bigConfig).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistrationConfigUnreachableError);
    expect(String((error as Error).cause)).toContain(`longer than ${MAX_ANSWER_BYTES} bytes`);
  });

  it("reports an answer that stalls or is cut off as unreachable; both calls share one deadline", async () => {
    const signals: (AbortSignal | null | undefined)[] = [];
    const answering =
      (body: (signal: AbortSignal | null | undefined) => ReadableStream): typeof fetch =>
      async (input, init) => {
        signals.push(init?.signal);
        const url = String(input instanceof Request ? input.url : input);
        if (url.startsWith("https://moodle.test/mod/lti/openid-configuration.php"))
          return Response.json(config);
        return new Response(body(init?.signal), { status: 200 });
      };
    // Headers, part of the body, then nothing more until the deadline cuts it off.
    const stalled = answering(
      (signal) =>
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"client_'));
            if (signal?.aborted) controller.error(signal.reason);
            signal?.addEventListener("abort", () => controller.error(signal.reason));
          },
        }),
    );
    const error = await registerWithPlatform(params, TOOL_URLS, "x", stalled, 200).catch((e) => e);
    expect(error).toBeInstanceOf(RegistrationConfigUnreachableError);
    expect(error.userMessage).toContain("may have kept the registration");
    expect(signals).toHaveLength(2);
    expect(signals[0]).toBeInstanceOf(AbortSignal);
    expect(signals[1]).toBe(signals[0]);

    // Part of the body, then the connection is reset.
    const reset = answering(
      () =>
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"client_'));
            controller.error(new TypeError("terminated"));
          },
        }),
    );
    await expect(registerWithPlatform(params, TOOL_URLS, "x", reset)).rejects.toBeInstanceOf(
      RegistrationConfigUnreachableError,
    );
  });

  it("sends nothing when the configuration took the whole deadline", async () => {
    let posted = false;
    const slow: typeof fetch = async (input) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url === config.registration_endpoint) posted = true;
      // The configuration arrives only after the deadline has passed.
      await new Promise((resolve) => setTimeout(resolve, 80));
      return Response.json(config);
    };
    const error = await registerWithPlatform(params, TOOL_URLS, "x", slow, 20).catch((e) => e);
    expect(error).toBeInstanceOf(RegistrationConfigUnreachableError);
    expect(error.userMessage).toContain("sent nothing");
    expect(posted).toBe(false);
  });

  it("refuses a configuration address that is not a web address, without fetching it", async () => {
    const fetched: string[] = [];
    const fetchImpl: typeof fetch = async (input) => {
      fetched.push(String(input));
      return Response.json(config);
    };
    for (const openidConfiguration of ["file:///etc/passwd", "mailto:admin@moodle.test"]) {
      const error = await registerWithPlatform({ openidConfiguration }, TOOL_URLS, "x", fetchImpl).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(RegistrationError);
      expect(error.status).toBe(400);
    }
    expect(fetched).toEqual([]);
  });

  it("reports an unreachable configuration", async () => {
    const fetchImpl: typeof fetch = async () => {
      throw new TypeError("fetch failed");
    };
    await expect(registerWithPlatform(params, TOOL_URLS, "x", fetchImpl)).rejects.toBeInstanceOf(
      RegistrationConfigUnreachableError,
    );
  });
});
