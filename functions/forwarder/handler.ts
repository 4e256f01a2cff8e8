import { logUnreadable } from "../../adapters/dynamo/unreadable.js";
import { jsonLogger } from "../web/log.js";
import { forwarderDepsFromEnv, once } from "./deps.js";
import { createStreamHandler, createSweepHandler } from "./stream.js";

const deps = once(() => forwarderDepsFromEnv(process.env));

/** DynamoDB Streams → Lambda (filter: NewImage.pk begins with OUTBOX#), partial batch failures on. */
export const handler = createStreamHandler(deps, { onUnreadable: logUnreadable(jsonLogger()) });
/** EventBridge schedule (every minute): retries, replays and long back-offs. */
export const sweep = createSweepHandler(deps);
