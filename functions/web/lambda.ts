import type { Env, Hono, Schema } from "hono";
import { handle } from "hono/aws-lambda";

type LambdaHandler = ReturnType<typeof handle>;

/**
 * hono/aws-lambda for the HTTP API. API Gateway passes a body on a GET or HEAD too, which the
 * Fetch API's Request refuses to build (hono then answers a bare "Invalid request"): such a body
 * means nothing (RFC 9110 §9.3.1) and is dropped, so the request is answered like any other.
 */
export function lambdaHandler<E extends Env, S extends Schema, B extends string>(
  app: Hono<E, S, B>,
): LambdaHandler {
  const handler = handle(app);
  return ((event: Parameters<LambdaHandler>[0], context: Parameters<LambdaHandler>[1]) =>
    handler(withoutBodyOnGet(event), context)) as LambdaHandler;
}

export function withoutBodyOnGet<E>(event: E): E {
  const e = event as { body?: unknown; isBase64Encoded?: boolean; httpMethod?: string } & {
    requestContext?: { http?: { method?: string } };
  };
  const method = (e.requestContext?.http?.method ?? e.httpMethod ?? "").toUpperCase();
  if ((method !== "GET" && method !== "HEAD") || e.body === undefined || e.body === null) return event;
  const { body: _dropped, ...rest } = e;
  return { ...rest, isBase64Encoded: false } as E;
}
