/**
 * Imported first by the local commands and the benches: silences the AWS SDK's notice that its
 * releases after January 2027 need Node 22 (as vitest.config.ts does). These commands run on the
 * Node 20 this project supports (package.json engines); the Lambdas run Node 22.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
