/**
 * A switch for tests of a tool's retries: the platform answers the next N service calls with
 * 429 or a 5xx and a `Retry-After`, then behaves again. Plus a log of every service call
 * (OpenID configuration, registration, token, AGS, NRPS) with what came in and what went out.
 */
import type { MiddlewareHandler } from "hono";

export type FaultStatus = 429 | 500 | 502 | 503 | 504;
/** Which calls a fault applies to: the AGS/NRPS services, the token endpoint, or both. */
export type FaultTarget = "services" | "token" | "any";

export interface FaultOptions {
  /** Default 503. */
  readonly status?: FaultStatus;
  /** `Retry-After` in seconds (default 1); `null` sends none. */
  readonly retryAfterSeconds?: number | null;
  /** Default "services". */
  readonly on?: FaultTarget;
}

export interface InjectedFault {
  readonly method: string;
  readonly url: string;
  readonly status: FaultStatus;
}

export class FaultInjector {
  private queue: { status: FaultStatus; retryAfterSeconds: number | null; on: FaultTarget }[] = [];
  private readonly log: InjectedFault[] = [];

  /** Answers the next `count` matching calls with the fault. Calls add up. */
  fail(count: number, options: FaultOptions = {}): void {
    if (!Number.isInteger(count) || count < 0 || count > 1000) throw new RangeError("count must be 0-1000");
    const fault = {
      status: options.status ?? 503,
      retryAfterSeconds: options.retryAfterSeconds === undefined ? 1 : options.retryAfterSeconds,
      on: options.on ?? "services",
    };
    for (let i = 0; i < count; i++) this.queue.push({ ...fault });
  }

  /** Cancels the faults not yet served. */
  clear(): void {
    this.queue = [];
  }

  /** Faults still to serve. */
  get pending(): number {
    return this.queue.length;
  }

  /** Every fault served so far. */
  injected(): readonly InjectedFault[] {
    return [...this.log];
  }

  /** Middleware: serves the next fault when it applies to this kind of call. */
  middleware(kind: Exclude<FaultTarget, "any">): MiddlewareHandler {
    return async (c, next) => {
      const index = this.queue.findIndex((f) => f.on === kind || f.on === "any");
      const fault = index < 0 ? undefined : this.queue[index];
      if (!fault) return next();
      this.queue.splice(index, 1);
      this.log.push({ method: c.req.method, url: c.req.url, status: fault.status });
      if (fault.retryAfterSeconds !== null) c.header("Retry-After", String(fault.retryAfterSeconds));
      return c.json(
        {
          error: fault.status === 429 ? "too_many_requests" : "temporarily_unavailable",
          error_description: "Fault injected by the development platform (platform.faults).",
        },
        fault.status,
      );
    };
  }
}

/** One HTTP call to the platform's machine-to-machine endpoints. */
export interface ServiceCall {
  readonly at: number;
  readonly method: string;
  readonly url: string;
  /** Request headers, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
  readonly status: number;
  readonly responseHeaders: Readonly<Record<string, string>>;
  readonly responseBody: string;
}

export class ServiceCallLog {
  private readonly calls: ServiceCall[] = [];

  constructor(private readonly now: () => number) {}

  list(): readonly ServiceCall[] {
    return [...this.calls];
  }

  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const at = this.now();
      const body = c.req.method === "GET" || c.req.method === "HEAD" ? undefined : await c.req.text();
      await next();
      const responseBody = await c.res.clone().text();
      this.calls.push({
        at,
        method: c.req.method,
        url: c.req.url,
        headers: Object.fromEntries(c.req.raw.headers),
        body,
        status: c.res.status,
        responseHeaders: Object.fromEntries(c.res.headers),
        responseBody,
      });
    };
  }
}
