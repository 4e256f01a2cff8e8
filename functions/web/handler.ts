import { buildDeps, loadRuntimeConfig } from "./compose.js";
import { lambdaHandler } from "./lambda.js";
import { createWebApp } from "./web-app.js";

// Dependencies are built once per cold start; `npm start` serves the same routes (app.tsx).
export const handler = lambdaHandler(createWebApp(await buildDeps(loadRuntimeConfig())));
