/**
 * LTI Dynamic Registration 1.0, the platform's half, shaped as Moodle 4.x does it:
 * - `/mod/lti/startltiadvregistration.php?url=<tool>` sends the admin's browser to the tool's
 *   registration URL with `openid_configuration` and a `registration_token`: a JWT the platform
 *   signs, `{sub: <the client_id to be>, scope: "reg", iat, exp: iat + 1 h}`;
 * - the OpenID configuration at `/.well-known/openid-configuration` and Moodle's
 *   `/mod/lti/openid-configuration.php`;
 * - the registration endpoint `/mod/lti/openid-registration.php`, which checks the client
 *   registration as Moodle's `registration_helper::registration_to_config` does (plus the
 *   grant types and the exact domain the issue asks for) and creates a **pending** tool.
 * Errors answer `{error, error_description}` (RFC 7591 §3.2.2); Moodle answers plain text.
 */
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from "jose";
import * as z from "zod";
import { CLAIM, MESSAGE_TYPE, SCOPE, SERVICE_SCOPES } from "./claims.js";
import { generateClientId, type RegisteredTool, type ToolRegistry } from "./tools.js";

/** Moodle's registration tokens live an hour (`HOURSECS`). */
export const REGISTRATION_TOKEN_LIFETIME_SECONDS = 3600;
/** `$CFG->release` of Moodle 4.5, which Moodle sends as the platform configuration's version. */
export const MOODLE_RELEASE = "4.5 (Build: 20241007)";

export interface OpenIdConfigurationUrls {
  readonly issuer: string;
  readonly auth: string;
  readonly token: string;
  readonly jwks: string;
  readonly registration: string;
}

/** The platform's OpenID configuration (Dynamic Registration §3.3, Moodle's openid-configuration.php). */
export function openIdConfiguration(urls: OpenIdConfigurationUrls): Record<string, unknown> {
  return {
    issuer: urls.issuer,
    authorization_endpoint: urls.auth,
    token_endpoint: urls.token,
    token_endpoint_auth_methods_supported: ["private_key_jwt"],
    token_endpoint_auth_signing_alg_values_supported: ["RS256"],
    jwks_uri: urls.jwks,
    registration_endpoint: urls.registration,
    scopes_supported: ["openid", ...SERVICE_SCOPES],
    response_types_supported: ["id_token"],
    subject_types_supported: ["public", "pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    claims_supported: ["sub", "iss", "name", "given_name", "family_name", "email"],
    [CLAIM.platformConfiguration]: {
      product_family_code: "moodle",
      version: MOODLE_RELEASE,
      messages_supported: [
        { type: MESSAGE_TYPE.resourceLink },
        { type: MESSAGE_TYPE.deepLinking, placements: ["ContentArea"] },
      ],
    },
  };
}

/** Issues and checks registration tokens: signed by the platform, short-lived, single use. */
export class RegistrationTokens {
  /** client_ids handed out in tokens whose registration succeeded. */
  private readonly used = new Set<string>();

  constructor(
    private readonly sign: (payload: JWTPayload) => Promise<string>,
    private readonly jwks: () => JSONWebKeySet,
    private readonly issuer: string,
    private readonly now: () => number,
  ) {}

  async issue(): Promise<{ token: string; clientId: string; expiresAt: number }> {
    const iat = Math.floor(this.now() / 1000);
    const clientId = generateClientId();
    const exp = iat + REGISTRATION_TOKEN_LIFETIME_SECONDS;
    const token = await this.sign({ iss: this.issuer, sub: clientId, scope: "reg", iat, exp });
    return { token, clientId, expiresAt: exp * 1000 };
  }

  /** The client_id the token reserves, or why it is refused. Does not consume it. */
  async check(
    authorization: string | undefined,
  ): Promise<{ ok: true; clientId: string } | { ok: false; why: string }> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match?.[1]) return { ok: false, why: "Authorization: Bearer <registration_token> is required." };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1], createLocalJWKSet(this.jwks()), {
        algorithms: ["RS256"],
        issuer: this.issuer,
        requiredClaims: ["sub", "exp"],
        currentDate: new Date(this.now()),
      }));
    } catch (error) {
      return { ok: false, why: `The registration token is not valid: ${(error as Error).message}.` };
    }
    if (payload.scope !== "reg")
      return { ok: false, why: "The registration token is not for a new registration." };
    const clientId = String(payload.sub);
    if (this.used.has(clientId))
      return { ok: false, why: "token_already_used: this registration token was used." };
    return { ok: true, clientId };
  }

  consume(clientId: string): void {
    this.used.add(clientId);
  }
}

const HttpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
const Message = z.looseObject({
  type: z.string().min(1),
  target_link_uri: HttpUrl.optional(),
  label: z.string().optional(),
  custom_parameters: z.record(z.string(), z.string()).optional(),
  placements: z.array(z.string()).optional(),
});

/** The client registration: OIDC Dynamic Client Registration plus the LTI claim (DR §3.5). */
const ClientRegistrationSchema = z.looseObject({
  application_type: z.literal("web", { error: 'must be "web"' }).optional(),
  client_name: z.string().min(1, "is required"),
  jwks_uri: HttpUrl,
  initiate_login_uri: HttpUrl,
  redirect_uris: z.array(HttpUrl).min(1, "must list at least one URI"),
  response_types: z.array(z.string()).refine((t) => t.includes("id_token"), 'must include "id_token"'),
  grant_types: z.array(z.string()).refine((g) => g.includes("implicit") && g.includes("client_credentials"), {
    error: 'must include "implicit" and "client_credentials"',
  }),
  token_endpoint_auth_method: z.literal("private_key_jwt", { error: 'must be "private_key_jwt"' }),
  scope: z.string().optional(),
  logo_uri: z.string().optional(),
  [CLAIM.toolConfiguration]: z.looseObject({
    domain: z.string().min(1, "is required"),
    target_link_uri: HttpUrl,
    secondary_domains: z.array(z.string()).optional(),
    custom_parameters: z.record(z.string(), z.string()).optional(),
    description: z.string().optional(),
    messages: z.array(Message),
    claims: z.array(z.string()),
  }),
});
export type ClientRegistration = z.infer<typeof ClientRegistrationSchema>;

export type RegistrationOutcome =
  | { readonly ok: true; readonly tool: RegisteredTool; readonly response: Record<string, unknown> }
  | {
      readonly ok: false;
      readonly error: "invalid_client_metadata" | "invalid_redirect_uri";
      readonly description: string;
    };

/**
 * Moodle's grant from the scopes asked for: any AGS scope gives score, result and read-only
 * line items, and `lineitem` adds full line item management; NRPS when asked.
 */
export function grantScopes(requested: readonly string[]): string[] {
  const granted: string[] = [];
  const ags = [SCOPE.score, SCOPE.resultReadOnly, SCOPE.lineItemReadOnly, SCOPE.lineItem] as const;
  if (requested.some((s) => (ags as readonly string[]).includes(s))) {
    granted.push(SCOPE.score, SCOPE.resultReadOnly, SCOPE.lineItemReadOnly);
  }
  if (requested.includes(SCOPE.lineItem)) granted.push(SCOPE.lineItem);
  if (requested.includes(SCOPE.memberships)) granted.push(SCOPE.memberships);
  return granted;
}

/** Checks a registration body and builds the pending tool and the response (DR §3.6). */
export function registerTool(body: unknown, clientId: string, tools: ToolRegistry): RegistrationOutcome {
  const parsed = ClientRegistrationSchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(body)"} ${i.message}`);
    const redirect = parsed.error.issues.some((i) => i.path[0] === "redirect_uris");
    return {
      ok: false,
      error: redirect ? "invalid_redirect_uri" : "invalid_client_metadata",
      description: issues.join("; "),
    };
  }
  const reg = parsed.data;
  const config = reg[CLAIM.toolConfiguration];
  const host = new URL(config.target_link_uri).host.toLowerCase();
  if (config.domain.toLowerCase() !== host) {
    return {
      ok: false,
      error: "invalid_client_metadata",
      description: `domain_targetlinkuri_mismatch: the tool configuration's domain "${config.domain}" must be the host[:port] of its target_link_uri ("${host}").`,
    };
  }
  const deepLinking = config.messages.find((m) => m.type === MESSAGE_TYPE.deepLinking);
  const scopes = grantScopes((reg.scope ?? "").split(/\s+/).filter(Boolean));
  const tool: RegisteredTool = {
    clientId,
    deploymentId: tools.nextDeploymentId(),
    name: reg.client_name,
    loginInitiationUrl: reg.initiate_login_uri,
    targetLinkUri: config.target_link_uri,
    redirectUris: [...reg.redirect_uris],
    jwksUrl: reg.jwks_uri,
    status: "pending",
    scopes,
    deepLinkingUrl: deepLinking ? (deepLinking.target_link_uri ?? config.target_link_uri) : undefined,
    custom: { ...config.custom_parameters },
    domain: config.domain,
    registeredBy: "dynamic-registration",
  };
  const response: Record<string, unknown> = {
    ...reg,
    client_id: clientId,
    scope: scopes.join(" "),
    [CLAIM.toolConfiguration]: { ...config, deployment_id: tool.deploymentId },
  };
  return { ok: true, tool, response };
}

/** One POST to the registration endpoint, as received. */
export interface RegistrationRecord {
  readonly at: number;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  /** The body exactly as posted. */
  readonly raw: string;
  /** The body parsed as JSON; undefined when it was not JSON. */
  readonly body: unknown;
  readonly status: number;
  readonly response: Readonly<Record<string, unknown>>;
  /** The client_id of the tool created, on success. */
  readonly clientId: string | undefined;
}
