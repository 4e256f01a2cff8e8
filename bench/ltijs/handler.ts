/**
 * Entry of the ltijs baseline's Lambda-style bundle (`npm run build:lambda` →
 * bench/.build/ltijs/handler.mjs), for the cold-import benchmark: importing it loads ltijs
 * (Express, mongoose, got, jsonwebtoken… even with a database plugin), sets it up in
 * serverless mode on the in-memory plugin and exports its Express app. A deployed ltijs
 * Lambda would wrap the app with serverless-http (not installed here, a few KB), and its
 * plugin would connect to a real database at this point.
 */
import { setupLtijsTool } from "./tool.js";

const { lti } = await setupLtijsTool(process.env.LTIJS_ENCRYPTION_KEY);

export const app = lti.app;
