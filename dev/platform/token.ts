/**
 * The OAuth 2.0 token endpoint `/mod/lti/token.php` (LTI Security Framework §4.1): the
 * client_credentials grant, the client authenticated by a JWT it signed (RFC 7523 §2.2,
 * `private_key_jwt`), verified against the tool's JWKS. Like Moodle, the access token lives an
 * hour and grants the requested scopes the tool was granted (the intersection; none →
 * `invalid_scope`). Errors follow RFC 6749 §5.2; a bad assertion is `invalid_client` (401),
 * as RFC 7523 §3.2 says.
 */
import { randomBytes } from "node:crypto";
import type { JWTPayload, ProtectedHeaderParameters } from "jose";
import { decodeUnverified, type ToolKeySets } from "./tool-jwt.js";
import type { RegisteredTool, ToolRegistry } from "./tools.js";

export const ACCESS_TOKEN_LIFETIME_SECONDS = 3600;
export const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export type TokenErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope";

/** One request to the token endpoint, as received, with what the platform made of it. */
export interface TokenRequestRecord {
  readonly at: number;
  readonly contentType: string | undefined;
  /** The form fields as posted. */
  readonly params: Readonly<Record<string, string>>;
  /** The client assertion's header and claims, decoded (even when they did not verify). */
  readonly assertionHeader: ProtectedHeaderParameters | undefined;
  readonly assertionClaims: JWTPayload | undefined;
  readonly status: number;
  /** The JSON answered: the token, or `{error, error_description}`. */
  readonly response: Readonly<Record<string, unknown>>;
  readonly clientId: string | undefined;
  readonly grantedScopes: readonly string[];
}

export interface AccessToken {
  readonly token: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** Epoch ms. */
  readonly expiresAt: number;
}

export type BearerCheck =
  | { readonly ok: true; readonly token: AccessToken; readonly tool: RegisteredTool }
  | { readonly ok: false; readonly status: 401 | 403; readonly error: string; readonly description: string };

export class TokenService {
  private readonly tokens = new Map<string, AccessToken>();
  /** Assertion jti → its expiry (epoch ms): a jti is good once (RFC 7523 §3, item 7). */
  private readonly usedJtis = new Map<string, number>();
  private readonly records: TokenRequestRecord[] = [];

  constructor(
    private readonly tools: ToolRegistry,
    private readonly keySets: ToolKeySets,
    private readonly now: () => number,
    /** Accepted `aud` values: the token endpoint URL, then the issuer. */
    private readonly audiences: readonly string[],
  ) {}

  requests(): readonly TokenRequestRecord[] {
    return [...this.records];
  }

  /** Handles a POSTed body; returns the status and JSON to answer. */
  async handle(
    contentType: string | undefined,
    body: string,
  ): Promise<{ status: 200 | 400 | 401; json: Record<string, unknown> }> {
    const params: Record<string, string> = {};
    const form = new URLSearchParams(body);
    for (const [k, v] of form) params[k] = v;
    let header: ProtectedHeaderParameters | undefined;
    let claims: JWTPayload | undefined;
    let clientId: string | undefined;
    let granted: string[] = [];

    const finish = (status: 200 | 400 | 401, json: Record<string, unknown>) => {
      this.records.push({
        at: this.now(),
        contentType,
        params,
        assertionHeader: header,
        assertionClaims: claims,
        status,
        response: json,
        clientId,
        grantedScopes: granted,
      });
      return { status, json };
    };
    const error = (code: TokenErrorCode, description: string) =>
      finish(code === "invalid_client" ? 401 : 400, { error: code, error_description: description });

    if (!/^application\/x-www-form-urlencoded\b/i.test(contentType ?? "")) {
      return error(
        "invalid_request",
        "The body must be application/x-www-form-urlencoded (RFC 6749 §4.4.2).",
      );
    }
    const missing = ["grant_type", "client_assertion_type", "client_assertion", "scope"].filter(
      (n) => !params[n],
    );
    if (missing.length > 0) return error("invalid_request", `Missing ${missing.join(", ")}.`);
    if (params.grant_type !== "client_credentials") {
      return error("unsupported_grant_type", "grant_type must be client_credentials.");
    }
    if (params.client_assertion_type !== CLIENT_ASSERTION_TYPE) {
      return error("invalid_client", `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}.`);
    }

    const assertion = params.client_assertion ?? "";
    const result = await this.verifyAssertion(assertion);
    header = result.header;
    claims = result.payload;
    if (!result.ok) return error("invalid_client", `The client assertion was refused: ${result.reason}.`);
    const tool = result.tool;
    clientId = tool.clientId;
    if (tool.status !== "active") {
      return error("unauthorized_client", "The tool is pending: an administrator must activate it first.");
    }

    const requested = (params.scope ?? "").split(/\s+/).filter(Boolean);
    granted = [...new Set(requested.filter((s) => tool.scopes.includes(s)))];
    if (granted.length === 0) {
      return error(
        "invalid_scope",
        `None of the requested scopes is granted to this tool. Granted: ${tool.scopes.join(" ") || "(none)"}.`,
      );
    }
    const token: AccessToken = {
      token: randomBytes(24).toString("base64url"),
      clientId: tool.clientId,
      scopes: granted,
      expiresAt: this.now() + ACCESS_TOKEN_LIFETIME_SECONDS * 1000,
    };
    this.tokens.set(token.token, token);
    return finish(200, {
      access_token: token.token,
      token_type: "Bearer",
      expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
      scope: granted.join(" "),
    });
  }

  private async verifyAssertion(assertion: string) {
    // Who claims to be asking, to find the keys to check that claim with.
    const unverified = decodeUnverified(assertion);
    const iss = typeof unverified.payload?.iss === "string" ? unverified.payload.iss : undefined;
    const tool = iss === undefined ? undefined : this.tools.list().find((t) => t.clientId === iss);
    if (!unverified.header || !unverified.payload) {
      return { ...unverified, ok: false as const, reason: "it is not a JWT" };
    }
    if (!tool) {
      const reason = iss === undefined ? "it names no issuer (iss)" : `no tool has client_id "${iss}" (iss)`;
      return { ...unverified, ok: false as const, reason };
    }
    const verified = await this.keySets.verify(assertion, {
      jwksUrl: tool.jwksUrl,
      issuer: tool.clientId,
      subject: tool.clientId,
      audience: this.audiences,
      requiredClaims: ["iss", "sub", "aud", "exp", "iat", "jti"],
      now: this.now(),
    });
    if (!verified.ok) return verified;
    const jti = String(verified.payload.jti);
    this.pruneJtis();
    const key = `${tool.clientId}\n${jti}`;
    if (this.usedJtis.has(key)) {
      return { ...verified, ok: false as const, reason: `jti "${jti}" was already used` };
    }
    this.usedJtis.set(key, (verified.payload.exp ?? 0) * 1000);
    return { ...verified, tool };
  }

  private pruneJtis(): void {
    const now = this.now();
    for (const [jti, exp] of this.usedJtis) if (exp < now - 60_000) this.usedJtis.delete(jti);
  }

  /** Checks an `Authorization: Bearer` header for one of the scopes. */
  checkBearer(authorization: string | undefined, anyOf: readonly string[]): BearerCheck {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match?.[1]) {
      return {
        ok: false,
        status: 401,
        error: "invalid_request",
        description: "Authorization: Bearer <token> is required.",
      };
    }
    const token = this.tokens.get(match[1]);
    if (!token)
      return { ok: false, status: 401, error: "invalid_token", description: "Unknown access token." };
    if (token.expiresAt <= this.now()) {
      return { ok: false, status: 401, error: "invalid_token", description: "The access token has expired." };
    }
    const tool = this.tools.find(token.clientId);
    if (tool?.status !== "active") {
      return {
        ok: false,
        status: 401,
        error: "invalid_token",
        description: "The token's tool is not active.",
      };
    }
    if (!anyOf.some((s) => token.scopes.includes(s))) {
      return {
        ok: false,
        status: 403,
        error: "insufficient_scope",
        description: `This call needs one of: ${anyOf.join(" ")}. The token has: ${token.scopes.join(" ")}.`,
      };
    }
    return { ok: true, token, tool };
  }
}
