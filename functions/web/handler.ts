import { createApp } from "./app.js";
import { buildDeps, loadRuntimeConfig } from "./compose.js";
import { lambdaHandler } from "./lambda.js";

// Dependencies are built once per cold start; the same createApp serves `npm start`.
export const handler = lambdaHandler(createApp(await buildDeps(loadRuntimeConfig())));
