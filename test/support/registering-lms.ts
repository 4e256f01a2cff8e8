/**
 * An LMS that registers the tool dynamically, as fetch sees it: its OpenID configuration at
 * CONFIG_URL and a registration endpoint that answers with `clientId`. `authorization_server`
 * names another LMS's token endpoint (what a hostile registrant would choose); its key set is
 * served only when `jwks` is given; every request is counted.
 */
export const REGISTERING_LMS = "https://other-lms.test";
export const CONFIG_URL = `${REGISTERING_LMS}/.well-known/openid-configuration`;

export function registeringLms(
  clientId: string,
  options: {
    authorizationServer?: string;
    jwks?: { keys: unknown[] };
    /** A path on the LMS's host for its auth, token and JWKS endpoints (a hostile registrant's uploads). */
    endpointsUnder?: string;
  } = {},
) {
  const at = `${REGISTERING_LMS}${options.endpointsUnder ?? ""}`;
  const calls: string[] = [];
  const fetchImpl: typeof fetch = async (input) => {
    const url = String(input instanceof Request ? input.url : input);
    calls.push(url);
    if (url === CONFIG_URL) {
      return Response.json({
        issuer: REGISTERING_LMS,
        authorization_endpoint: `${at}/auth`,
        token_endpoint: `${at}/token`,
        jwks_uri: `${at}/jwks`,
        registration_endpoint: `${REGISTERING_LMS}/register`,
        ...(options.authorizationServer ? { authorization_server: options.authorizationServer } : {}),
        "https://purl.imsglobal.org/spec/lti-platform-configuration": { product_family_code: "moodle" },
      });
    }
    if (url === `${REGISTERING_LMS}/register`) {
      return Response.json({
        client_id: clientId,
        "https://purl.imsglobal.org/spec/lti-tool-configuration": { deployment_id: "1" },
      });
    }
    if (url === `${at}/jwks` && options.jwks) return Response.json(options.jwks);
    return new Response("not found", { status: 404 });
  };
  return { fetchImpl, calls };
}
