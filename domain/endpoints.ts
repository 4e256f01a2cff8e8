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

/** A URL's hostname naming this machine's loopback, as written (`localhost`, 127.0.0.1, [::1]). */
export const isLoopbackHost = (hostname: string): boolean => LOOPBACK.includes(hostname);

/**
 * https to a public address; plain http (or https) to loopback in local mode only. An address
 * written as a private, loopback or link-local IP (or `localhost`) is refused deployed, https or
 * not: it can only be meant for the tool's own network. A name that resolves to one is not seen
 * here (that needs the connection's own lookup).
 */
export function isEndpointUrl(u: string | URL): boolean {
  const url = typeof u === "string" ? (URL.canParse(u) ? new URL(u) : undefined) : u;
  if (url === undefined) return false;
  if (loopbackAllowed && isLoopbackHost(url.hostname)) {
    return url.protocol === "http:" || url.protocol === "https:";
  }
  return url.protocol === "https:" && !isInternalHost(url.hostname);
}

/**
 * Names only a local resolver answers: under `.localhost` (RFC 6761), `.local` (mDNS),
 * `.home.arpa` (RFC 8375), `.internal` (ICANN's private-use name), and the `localdomain` names
 * that /etc/hosts maps to loopback on common Linux images.
 */
const INTERNAL_SUFFIXES = [
  ".localhost",
  ".local",
  ".home.arpa",
  ".internal",
  ".localdomain",
  ".localdomain4",
  ".localdomain6",
];

/**
 * `localhost` and the other names only a local network resolves (one label, such as `localhost4`
 * or `metadata`, or a private-use suffix), or an IP literal in a range no LMS or LRS on the
 * internet can have.
 */
export function isInternalHost(hostname: string): boolean {
  // A trailing dot names the same host (`localhost.`); the URL parser keeps it on names.
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[") && host.endsWith("]")) return isInternalIpv6(host.slice(1, -1));
  // One label: found through the machine's search domains or hosts file, never on the internet.
  if (!host.includes(".")) return true;
  if (INTERNAL_SUFFIXES.some((suffix) => host.endsWith(suffix))) return true;
  const v4 = ipv4(host);
  return v4 !== undefined && isInternalIpv4(v4);
}

/** The four bytes of a dotted IPv4 literal (the URL parser has made every IPv4 form dotted). */
function ipv4(host: string): number[] | undefined {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
  const bytes = parts.map(Number);
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

function isInternalIpv4([a = 0, b = 0]: number[]): boolean {
  return (
    a === 0 || // "this network"
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a >= 224 // multicast, reserved, broadcast
  );
}

function isInternalIpv6(address: string): boolean {
  const a = address.toLowerCase();
  // IPv4-mapped and well-known NAT64 addresses carry an IPv4 address in their last 32 bits.
  const embedded = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (embedded) {
    const hi = Number.parseInt(embedded[1] ?? "0", 16);
    const lo = Number.parseInt(embedded[2] ?? "0", 16);
    return isInternalIpv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  }
  const groups = a.split(":");
  const first = Number.parseInt(groups[0] || "0", 16);
  const second = Number.parseInt(groups[1] || "0", 16);
  if (first === 0x2002) {
    // 6to4: the IPv4 address is in the second and third groups.
    const third = Number.parseInt(groups[2] || "0", 16);
    return isInternalIpv4([second >> 8, second & 255, third >> 8, third & 255]);
  }
  return (
    first === 0 || // ::, ::1, IPv4-compatible and other forms of the first /16 (mapped ones above)
    (first === 0x64 && second === 0xff9b) || // NAT64 prefixes, the local-use 64:ff9b:1::/48 included
    (first & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xffc0) === 0xfec0 || // site-local fec0::/10 (deprecated)
    (first & 0xff00) === 0xff00 // multicast
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
        `${hop === 0 ? "The address" : "A redirect to"} ${current.origin} is not one the tool calls (it must be https, to a public address).`,
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
