import { getFollowingSafeRedirects } from "../domain/endpoints.js";
import { AppError, ValidationError } from "../domain/errors.js";
import { readCapped } from "../domain/http-body.js";
import * as z from "../domain/zod.js";
import { SCOPES, safeJson } from "./advantage/service-client.js";
import { MESSAGE_TYPES } from "./claims.js";
import {
  isEndpointUrl,
  type PlatformRegistrationInput,
  parseRegistrationInput,
  RegisteredId,
} from "./registration.js";

/** Dynamic Registration 1.0 failures: each says what the administrator can do. */
export class RegistrationError extends AppError {
  readonly status: number = 400;
  readonly code: string = "lti.registration_failed";
  readonly title = "The tool could not be registered";
}
export class RegistrationConfigUnreachableError extends RegistrationError {
  override readonly status = 502;
  override readonly code = "lti.registration_config_unreachable";
}
export class RegistrationRefusedError extends RegistrationError {
  override readonly status = 502;
  override readonly code = "lti.registration_refused";
}

const PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration";
export const TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration";

// Both schemas are built on first use: only a dynamic registration reads them, never a launch.

/** The platform's OpenID configuration (Dynamic Registration §3.4). */
export const OpenIdConfigurationSchema = z.lazySchema(() =>
  z.object({
    issuer: z.url(),
    authorization_endpoint: z.url(),
    token_endpoint: z.url(),
    jwks_uri: z.url(),
    registration_endpoint: z.url(),
    authorization_server: z.optional(z.string()),
    scopes_supported: z.optional(z.array(z.string())),
    token_endpoint_auth_methods_supported: z.optional(z.array(z.string())),
    id_token_signing_alg_values_supported: z.optional(z.array(z.string())),
    [PLATFORM_CONFIG]: z.object({
      product_family_code: z.string(),
      version: z.optional(z.string()),
      messages_supported: z.optional(
        z.array(z.object({ type: z.string(), placements: z.optional(z.array(z.string())) })),
      ),
      variables: z.optional(z.array(z.string())),
    }),
  }),
);
export type OpenIdConfiguration = z.infer<ReturnType<typeof OpenIdConfigurationSchema>>;

/**
 * The most the tool reads of the LMS's configuration or registration answer (Moodle's are about
 * 3 KB): past it the answer is cut off, and the registration stops as unreachable, rather than
 * the admin function's memory going to an endless or hugely compressed answer.
 */
export const MAX_ANSWER_BYTES = 256 * 1024;

/** The client and deployment ids become parts of DynamoDB keys, hence their bound. */
const RegistrationResponseSchema = z.lazySchema(() =>
  z.object({
    // As a registration saves them (no spaces around): refused here, before the link is spent.
    client_id: RegisteredId(),
    [TOOL_CONFIG]: z.optional(z.looseObject({ deployment_id: z.optional(RegisteredId()) })),
  }),
);

/** The registration the tool saves for a platform that registered it dynamically. */
export function platformRegistrationInput(
  config: OpenIdConfiguration,
  clientId: string,
  deploymentId: string | undefined,
): PlatformRegistrationInput {
  const product = config[PLATFORM_CONFIG].product_family_code;
  return {
    issuer: config.issuer,
    clientId,
    authUrl: config.authorization_endpoint,
    tokenUrl: config.token_endpoint,
    jwksUrl: config.jwks_uri,
    ...(config.authorization_server ? { authServer: config.authorization_server } : {}),
    name: `${product.slice(0, 60)} at ${new URL(config.issuer).host}`.slice(0, 200),
    // Canvas assigns deployments when the tool is installed in an account or course, not here.
    deploymentIds: deploymentId ? [deploymentId] : [],
  };
}

/** The LMS configuration's names for what the tool saves, so the administrator can find them. */
const CONFIG_NAMES: Record<string, string> = {
  issuer: "issuer",
  authUrl: "authorization_endpoint",
  tokenUrl: "token_endpoint",
  jwksUrl: "jwks_uri",
  authServer: "authorization_server",
  name: "product_family_code",
};

/** "field: message; field: message", in the configuration's names, for a page that must say what to fix. */
const listed = (error: ValidationError) =>
  error.issues
    .slice(0, 5)
    .map((i) => `${CONFIG_NAMES[i.path] ?? i.path}: ${i.message}`)
    .join("; ");

export interface ToolUrls {
  base: string;
  login: string;
  launch: string;
  jwks: string;
  targetLinkUri: string;
  deepLinking: string;
  logo?: string;
}

/** The client registration the tool sends (Dynamic Registration §3.5 with the LTI tool-configuration claim). */
export function clientRegistration(urls: ToolUrls, config: OpenIdConfiguration, toolName: string) {
  const offered = new Set(config.scopes_supported ?? Object.values(SCOPES));
  const wanted = [
    SCOPES.lineItem,
    SCOPES.lineItemReadOnly,
    SCOPES.score,
    SCOPES.resultReadOnly,
    SCOPES.memberships,
  ];
  const supported = new Set(config[PLATFORM_CONFIG].messages_supported?.map((m) => m.type) ?? MESSAGE_TYPES);
  return {
    application_type: "web",
    response_types: ["id_token"],
    grant_types: ["implicit", "client_credentials"],
    initiate_login_uri: urls.login,
    redirect_uris: [urls.launch],
    client_name: toolName,
    jwks_uri: urls.jwks,
    ...(urls.logo ? { logo_uri: urls.logo } : {}),
    token_endpoint_auth_method: "private_key_jwt",
    scope: wanted.filter((s) => offered.has(s)).join(" "),
    [TOOL_CONFIG]: {
      // Moodle requires the domain to equal host[:port] of target_link_uri (lti.md).
      domain: new URL(urls.targetLinkUri).host,
      description:
        "Prepare for Higher Level Teaching Assistant (HLTA) status: standards, written tasks and evidence.",
      target_link_uri: urls.targetLinkUri,
      claims: ["iss", "sub", "name", "given_name", "family_name", "email", "locale"],
      messages: [
        {
          type: "LtiResourceLinkRequest",
          target_link_uri: urls.targetLinkUri,
          label: toolName,
          placements: ["CourseNavigation"],
        },
        ...(supported.has("LtiDeepLinkingRequest")
          ? [
              {
                type: "LtiDeepLinkingRequest",
                target_link_uri: urls.deepLinking,
                label: "Add an HLTA activity",
                placements: ["ContentArea"],
              },
            ]
          : []),
      ],
    },
  };
}

export interface DynamicRegistrationResult {
  config: OpenIdConfiguration;
  clientId: string;
  deploymentId: string | undefined;
  registrationBody: ReturnType<typeof clientRegistration>;
}

/**
 * The tool's half of Dynamic Registration: read the platform's configuration (with the
 * registration token if given), check its issuer, send our client registration.
 */
// The two calls to the LMS share one deadline (8 s) so the admin sees a clear page within the web
// function's time limit (10 s).
export async function registerWithPlatform(
  params: { openidConfiguration: string; registrationToken?: string },
  urls: ToolUrls,
  toolName: string,
  fetchImpl: typeof fetch = fetch,
  deadlineMs = 8_000,
): Promise<DynamicRegistrationResult> {
  if (!isEndpointUrl(params.openidConfiguration)) {
    throw new RegistrationError(
      "The LMS opened the registration page without a valid configuration address (openid_configuration): it must be an https URL.",
    );
  }
  const configUrl = new URL(params.openidConfiguration);
  const auth: Record<string, string> = params.registrationToken
    ? { authorization: `Bearer ${params.registrationToken}` }
    : {};
  // One deadline for both calls to the LMS, well inside the admin function's time limit.
  const deadline = AbortSignal.timeout(deadlineMs);
  let configText: string;
  try {
    // Redirects followed only to https addresses; the registration token only to the first origin.
    const res = await getFollowingSafeRedirects(
      configUrl,
      { headers: { accept: "application/json", ...auth }, signal: deadline },
      fetchImpl,
    );
    configText = await readCapped(res, MAX_ANSWER_BYTES);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  } catch (cause) {
    throw new RegistrationConfigUnreachableError(
      `The tool could not read your LMS's configuration at ${configUrl.origin}. Check that the LMS can be reached from the internet, then start the registration again.`,
      { cause, context: { configUrl: configUrl.toString() } },
    );
  }
  const parsed = OpenIdConfigurationSchema().safeParse(safeJson(configText));
  if (!parsed.success) {
    throw new RegistrationError(
      "Your LMS's configuration is missing information the tool needs (issuer, endpoints or LTI platform configuration).",
      { context: { issues: parsed.error.issues.slice(0, 10) } },
    );
  }
  const config = parsed.data;
  // Dynamic Registration §3.5.1: the issuer must be on the configuration URL's host.
  if (new URL(config.issuer).host !== configUrl.host) {
    throw new RegistrationError(
      `Your LMS's configuration names issuer ${config.issuer}, which is not the site it came from (${configUrl.host}). The registration was stopped for safety.`,
    );
  }
  // Everything the tool will save is checked before the LMS is asked: a refusal afterwards
  // would leave the LMS with a tool registration the tool does not have.
  try {
    parseRegistrationInput(platformRegistrationInput(config, "pending", undefined), {
      allowNoDeployments: true,
    });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new RegistrationError(
      `Your LMS's configuration cannot be registered (${listed(error)}). Nothing was sent to your LMS.`,
      { context: { issues: error.issues } },
    );
  }
  if (!isEndpointUrl(config.registration_endpoint)) {
    throw new RegistrationError(
      "Your LMS's registration endpoint is not an https URL, so the tool did not send its registration there.",
      { context: { registrationEndpoint: config.registration_endpoint.slice(0, 200) } },
    );
  }
  if (deadline.aborted) {
    throw new RegistrationConfigUnreachableError(
      "Your LMS took too long to send its configuration, so the tool sent nothing to it. Start the registration again.",
    );
  }
  const body = clientRegistration(urls, config, toolName);
  let res: Response;
  let text: string;
  try {
    res = await fetchImpl(config.registration_endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...auth },
      body: JSON.stringify(body),
      signal: deadline,
      // A redirected POST would become a GET elsewhere: the 3xx is the LMS's answer.
      redirect: "manual",
    });
    text = await readCapped(res, MAX_ANSWER_BYTES);
  } catch (cause) {
    throw new RegistrationConfigUnreachableError(
      "The tool could not reach your LMS's registration endpoint, or its answer was cut off. Check the LMS's list of tools before you try again: it may have kept the registration.",
      { cause },
    );
  }
  if (!res.ok) {
    const error = safeJson(text) as { error_description?: unknown; error?: unknown } | undefined;
    const why =
      typeof error?.error_description === "string"
        ? error.error_description
        : typeof error?.error === "string"
          ? error.error
          : `HTTP ${res.status}`;
    throw new RegistrationRefusedError(`Your LMS refused the registration: ${why.slice(0, 500)}.`, {
      context: { status: res.status, body: text.slice(0, 2000) },
    });
  }
  const registered = RegistrationResponseSchema().safeParse(safeJson(text));
  if (!registered.success) {
    throw new RegistrationRefusedError(
      "Your LMS accepted the registration, but its answer has no client id the tool can keep (missing, longer than 255 characters, or with spaces around it). Remove the new tool from your LMS's list of tools, then ask the tool's provider.",
      { context: { body: text.slice(0, 2000) } },
    );
  }
  return {
    config,
    clientId: registered.data.client_id,
    deploymentId: registered.data[TOOL_CONFIG]?.deployment_id,
    registrationBody: body,
  };
}
