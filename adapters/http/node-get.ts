import { Readable } from "node:stream";

/**
 * A GET with fetch's signature on node:http(s), for the one outbound call a launch can make:
 * the LMS's public keys (lti-tool/platform-jwks.ts, through getFollowingSafeRedirects).
 *
 * Why not fetch: Node's fetch loads its HTTP client (undici's, with a WebAssembly parser) on
 * first use. A new instance of the web function whose LMS keys are stale fetches them in its
 * first launch. Measured on this machine, in a fresh process that already has the Request and
 * Response classes Hono loads anyway, against a loopback server: the first fetch took 17–19 ms
 * (20–22 ms of CPU), the first GET here 10–11 ms (11–12 ms); and the benchmark's first launch
 * of a new process that fetches the keys went from 105 to 88 ms (medians of 16, README,
 * "A new instance's first launch"). The answer is still a web `Response`, so the callers read it
 * as before.
 *
 * Only what those callers use: GET or HEAD, headers, an abort signal, and `redirect: "manual"`,
 * which is required (this never follows a redirect; getFollowingSafeRedirects does, checking
 * each address). Anything else is refused with a TypeError, as fetch refuses what it cannot do.
 */
export function nodeGet(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  if (input instanceof Request) return Promise.reject(new TypeError("nodeGet takes a URL, not a Request."));
  const method = (init.method ?? "GET").toUpperCase();
  if (method !== "GET" && method !== "HEAD") {
    return Promise.reject(new TypeError(`nodeGet sends GET and HEAD only, not ${method}.`));
  }
  if (init.body !== undefined && init.body !== null) {
    return Promise.reject(new TypeError("nodeGet sends no body."));
  }
  if (init.redirect !== "manual") {
    return Promise.reject(new TypeError('nodeGet follows no redirect: pass redirect: "manual".'));
  }
  let url: URL;
  try {
    url = new URL(input);
  } catch (cause) {
    return Promise.reject(new TypeError(`Not a URL: ${String(input).slice(0, 200)}`, { cause }));
  }
  // From the loaded built-ins rather than an ESM import: an import of node:http in the bundle
  // built the module's export facade at every cold start (+0.4 ms), for a call few starts make.
  const client =
    url.protocol === "https:"
      ? process.getBuiltinModule("node:https")
      : url.protocol === "http:"
        ? process.getBuiltinModule("node:http")
        : undefined;
  if (!client) return Promise.reject(new TypeError(`nodeGet speaks http and https, not ${url.protocol}`));
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason);

  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      { method, headers: Object.fromEntries(new Headers(init.headers)), ...(signal ? { signal } : {}) },
      (response) => {
        const headers = new Headers();
        const raw = response.rawHeaders;
        for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
        const status = response.statusCode ?? 0;
        // A Response holds a status from 200 to 599; anything else is not an answer the callers read.
        if (status < 200 || status > 599) {
          response.destroy();
          reject(new TypeError(`The server answered with HTTP status ${status}.`));
          return;
        }
        const empty = method === "HEAD" || status === 204 || status === 205 || status === 304;
        if (empty) response.resume();
        resolve(
          new Response(empty ? null : (Readable.toWeb(response) as ReadableStream<Uint8Array>), {
            status,
            statusText: response.statusMessage ?? "",
            headers,
          }),
        );
      },
    );
    // Network failures and aborts before the answer: rejected, as fetch rejects them.
    request.once("error", reject);
    request.end();
  });
}
