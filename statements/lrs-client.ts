import { isEndpointUrl } from "../domain/endpoints.js";
import { BodyTooLargeError, readCapped } from "../domain/http-body.js";
import type { LrsAnswer, LrsClient, LrsCredentials } from "./ports.js";

/**
 * A thin xAPI client over fetch, for the two calls the forwarder makes. Why not the
 * `@xapi/xapi` client: it re-serialises the statements it is given (we must resend the exact
 * stored bytes), and its fetch adapter loses the HTTP status (a 409 looks like a 503). The
 * statement types still come from `@xapi/xapi` (statements/builders.ts).
 */

export const XAPI_VERSION = "1.0.3";
/** How much of an LRS answer is kept (for the admin page and the parked record). */
export const LRS_BODY_EXCERPT = 2_000;
/** How much of an LRS answer is read at all: ids of a batch, a statement, an error (1 MB). */
export const LRS_ANSWER_MAX_BYTES = 1_048_576;

export interface LrsClientOptions {
  /** The LRS's xAPI endpoint; `statements` is resolved under it. */
  endpoint: string;
  credentials: LrsCredentials;
  /** Per request, including reading the answer. */
  timeoutMs: number;
  /** Ends every request when it aborts (the forwarder's round budget). */
  signal?: AbortSignal;
  /** Injectable for tests (`app.request`-backed fetch); defaults to the global fetch. */
  fetch?: typeof fetch;
}

export function statementsUrl(endpoint: string): URL {
  return new URL("statements", endpoint.endsWith("/") ? endpoint : `${endpoint}/`);
}

/** Retry-After (RFC 9110 §10.2.3) as seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function classifyNetworkError(error: unknown): LrsAnswer {
  const name = error instanceof Error ? error.name : "";
  if (name === "TimeoutError" || name === "AbortError") {
    return { kind: "network", reason: "timeout", message: "the LRS did not answer in time" };
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === "string" ? cause.code : "";
  if (code === "ECONNREFUSED")
    return { kind: "network", reason: "refused", message: "the LRS refused the connection" };
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET" || code === "EPIPE") {
    return { kind: "network", reason: "reset", message: "the LRS closed the connection" };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    kind: "network",
    reason: "other",
    message: `could not reach the LRS: ${code || withoutUserinfo(message)}`,
  };
}

/**
 * A message with any `//user:password@` in a URL taken out. Such messages (fetch quoting the URL
 * it refused) end up in the outbox item, the stream and the logs, where no secret may go.
 */
export function withoutUserinfo(message: string): string {
  return message.replace(/\/\/[^/\s@]*@/g, "//[credentials removed]@");
}

export function createLrsClient(options: LrsClientOptions): LrsClient {
  const doFetch = options.fetch ?? fetch;
  const url = statementsUrl(options.endpoint);

  async function request(target: URL, init: RequestInit): Promise<LrsAnswer> {
    // Checked at every send, not only when the route was saved (domain/endpoints.ts): the
    // statements wait, pending, until the route's endpoint is one the tool calls.
    if (!isEndpointUrl(target)) {
      return {
        kind: "network",
        reason: "other",
        message:
          "the route's endpoint is not an address the tool calls (it must be https, to a public address): change the route",
      };
    }
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    try {
      const response = await doFetch(target, {
        ...init,
        signal,
        // A redirect is followed by no one: fetch would turn the POST into a GET (and count the
        // other host's 200 as delivery), or send the statements and credentials elsewhere.
        redirect: "manual",
        headers: {
          ...(init.headers as Record<string, string> | undefined),
          // xAPI 1.0.3 §6.2: every request carries the version header.
          "X-Experience-API-Version": XAPI_VERSION,
          Authorization: options.credentials.authorizationHeader(),
        },
      });
      const body = await readCapped(response, LRS_ANSWER_MAX_BYTES);
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
      return {
        kind: "response",
        status: response.status,
        body,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        return {
          kind: "network",
          reason: "other",
          message: `the LRS's answer was longer than ${error.maxBytes} bytes`,
        };
      }
      return classifyNetworkError(error);
    }
  }

  return {
    postStatements(bodies) {
      // The stored bytes, joined into a JSON array without re-serialising them.
      return request(url, {
        method: "POST",
        headers: { "Content-Type": "application/json; charset=utf-8" },
        body: `[${bodies.join(",")}]`,
      });
    },
    getStatement(statementId) {
      const target = new URL(url);
      target.searchParams.set("statementId", statementId);
      target.searchParams.set("format", "exact");
      return request(target, { method: "GET" });
    },
  };
}

export function excerpt(body: string, max: number = LRS_BODY_EXCERPT): string {
  return body.length <= max ? body : `${body.slice(0, max)}…`;
}
