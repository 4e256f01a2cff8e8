import { isRedirect } from "./http-body.js";

/**
 * Which addresses the tool may call (an LMS's keys, token and service endpoints, a registration
 * endpoint, an LRS). Deployed: https only. Plain http, and only to loopback, is allowed in local
 * mode, where the development platform, the LRS double and the tests live: `allowLoopbackEndpoints`
 * is called by the local runners (`buildDeps` in local mode, the CLIs on the local tool, the test
 * set-up), never by the Lambda. Deployed, an http URL on loopback would reach the Lambda runtime
 * API (127.0.0.1:9001), which anyone who can register a platform could otherwise point the tool at.
 */
let loopbackAllowed = false;

export function allowLoopbackEndpoints(allowed = true): void {
  loopbackAllowed = allowed;
}

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];

/** https everywhere; plain http to loopback in local mode only. */
export function isEndpointUrl(u: string | URL): boolean {
  const url = typeof u === "string" ? (URL.canParse(u) ? new URL(u) : undefined) : u;
  return (
    url !== undefined &&
    (url.protocol === "https:" ||
      (loopbackAllowed && url.protocol === "http:" && LOOPBACK.includes(url.hostname)))
  );
}

/** An address the tool will not call, or a redirect to one (the message says which). */
export class EndpointRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EndpointRefusedError";
  }
}

/**
 * A GET that follows at most `maxHops` redirects, each to an address `isEndpointUrl` allows:
 * fetch's own following would go wherever a Location points (plain http, loopback). As fetch
 * does, an `authorization` header goes to the first origin only. Throws EndpointRefusedError for
 * a refused address or too many hops.
 */
export async function getFollowingSafeRedirects(
  url: string | URL,
  init: { headers?: Record<string, string>; signal?: AbortSignal },
  fetchImpl: typeof fetch = fetch,
  maxHops = 3,
): Promise<Response> {
  const first = new URL(url);
  let current = first;
  for (let hop = 0; ; hop++) {
    if (!isEndpointUrl(current)) {
      throw new EndpointRefusedError(
        `${hop === 0 ? "The address" : "A redirect to"} ${current.origin} is not one the tool calls (it must be https).`,
      );
    }
    const headers = Object.fromEntries(
      Object.entries(init.headers ?? {}).filter(
        ([name]) => current.origin === first.origin || name.toLowerCase() !== "authorization",
      ),
    );
    const response = await fetchImpl(current, { ...init, headers, method: "GET", redirect: "manual" });
    const location = response.headers.get("location");
    if (!isRedirect(response.status) || location === null) return response;
    await response.body?.cancel().catch(() => undefined);
    if (hop === maxHops)
      throw new EndpointRefusedError(`More than ${maxHops} redirects from ${first.origin}.`);
    current = new URL(location, current);
  }
}
