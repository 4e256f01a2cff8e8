import { buildDeps, loadRuntimeConfig } from "../web/compose.js";
import { lambdaHandler } from "../web/lambda.js";
import { adminApps, createAdminApp } from "./admin-app.js";

// The administration pages, registration and the xAPI Profile (admin-app.ts): its own function,
// so the web function that every launch wakes carries none of it (infra/stacks/hlta-stack.ts).
export const handler = lambdaHandler(
  createAdminApp(await buildDeps(loadRuntimeConfig(), { admin: adminApps })),
);
