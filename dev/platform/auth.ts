/**
 * The OIDC authentication request at `/mod/lti/auth.php` (LTI Security Framework §5.1.1,
 * OIDC Core §3.1.2.1 and §3.2.2.5), checked as Moodle's auth.php checks it. Two kinds of
 * failure, as OAuth 2.0 (RFC 6749 §4.1.2.1) requires:
 * - a redirect_uri that is not registered: the user sees an error page, nothing is posted;
 * - anything else: `error` / `error_description` (and `state`) form-posted to the tool.
 */
import type { LaunchHint, MessageHintCodec } from "./message-hint.js";

export interface AuthClient {
  readonly clientId: string;
  readonly redirectUris: readonly string[];
  /** A tool still pending an administrator's approval may not launch (default true). */
  readonly active?: boolean;
}

/** OAuth 2.0 / OIDC error codes this endpoint answers with. */
export type AuthErrorCode =
  | "invalid_request"
  | "invalid_scope"
  | "unsupported_response_type"
  | "unauthorized_client"
  | "access_denied";

export type AuthDecision =
  | { readonly kind: "untrusted_redirect"; readonly message: string }
  | {
      readonly kind: "error";
      readonly redirectUri: string;
      readonly error: AuthErrorCode;
      readonly description: string;
      readonly state: string | undefined;
    }
  | {
      readonly kind: "ok";
      readonly redirectUri: string;
      readonly hint: LaunchHint;
      readonly nonce: string;
      readonly state: string | undefined;
    };

const REQUIRED = ["scope", "response_type", "client_id", "login_hint", "nonce", "lti_message_hint"] as const;

/**
 * `clients` are the registered tools. The redirect_uri must be one the tool named by
 * `client_id` registered; when the client_id is unknown, one any tool registered (so the
 * `unauthorized_client` error can be posted back to it).
 */
export function decideAuthRequest(
  params: Readonly<Record<string, string | undefined>>,
  clients: AuthClient | readonly AuthClient[],
  hints: MessageHintCodec,
): AuthDecision {
  const all: readonly AuthClient[] = "clientId" in clients ? [clients] : clients;
  const client = all.find((c) => c.clientId === params.client_id);
  const trusted = client ? client.redirectUris : all.flatMap((c) => c.redirectUris);
  const redirectUri = params.redirect_uri;
  // Exact match only (Security Framework §5.1.1.1; Moodle compares whole strings).
  if (!redirectUri || !trusted.includes(redirectUri)) {
    return {
      kind: "untrusted_redirect",
      message: redirectUri
        ? `The tool asked to return to ${redirectUri}, which is not one of its registered redirect URIs (${trusted.join(", ")}).`
        : "The tool's authentication request has no redirect_uri.",
    };
  }
  const state = params.state || undefined;
  const fail = (error: AuthErrorCode, description: string): AuthDecision => ({
    kind: "error",
    redirectUri,
    error,
    description,
    state,
  });

  const missing = REQUIRED.filter((name) => !params[name]);
  if (missing.length > 0) return fail("invalid_request", `Missing ${missing.join(", ")}`);
  if (params.scope !== "openid") return fail("invalid_scope", "scope must be openid");
  if (params.response_type !== "id_token") {
    return fail("unsupported_response_type", "response_type must be id_token");
  }
  if (!client) return fail("unauthorized_client", "Unknown client_id");
  if (client.active === false) {
    return fail("unauthorized_client", "The tool is pending: an administrator must activate it first");
  }
  if (params.response_mode !== "form_post") return fail("invalid_request", "response_mode must be form_post");
  // Required by the Security Framework (§5.1.1.1); Moodle itself only rejects other values.
  if (params.prompt !== "none") return fail("invalid_request", "prompt must be none");

  const opened = hints.open(params.lti_message_hint ?? "");
  if (!opened.ok) {
    const why = {
      malformed: "is not one this platform issued",
      bad_signature: "was altered",
      expired: "has expired",
      already_used: "was already used",
    }[opened.reason];
    return fail("invalid_request", `lti_message_hint ${why}`);
  }
  if (opened.hint.tool !== client.clientId) {
    return fail("invalid_request", "lti_message_hint was issued for another tool (client_id)");
  }
  if (params.login_hint !== opened.hint.user) {
    return fail("access_denied", "login_hint does not match the user of this launch");
  }
  return { kind: "ok", redirectUri, hint: opened.hint, nonce: params.nonce ?? "", state };
}
