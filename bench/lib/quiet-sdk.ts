/** Imported first by the benches: silences the AWS SDK's Node-version notice (as vitest.config.ts does). */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
