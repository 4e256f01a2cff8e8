import { handle } from "hono/aws-lambda";
import { createApp } from "./app.js";
import { buildDeps, loadRuntimeConfig } from "./compose.js";

// Dependencies are built once per cold start; the same createApp serves `npm start`.
export const handler = handle(createApp(await buildDeps(loadRuntimeConfig())));
