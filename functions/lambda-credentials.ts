import { type FromEnvInit, fromEnv } from "@aws-sdk/credential-provider-env";

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (an esbuild alias in
 * infra/constructs/hlta-function.ts, and in bench/build-bundles.ts so the benchmark measures the
 * same bundle). In Lambda the execution role's credentials are in the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), and the default chain's first
 * link, `fromEnv`, is the one that answers there. The chain's other links (SSO, shared ini
 * files, credential processes, web identity, container and instance metadata) and the STS/SSO
 * clients they bring are ≈135 KB of minified code that every cold start would parse for nothing.
 * Everything outside the Lambda bundles (the local server, tests, CLIs) keeps the full chain.
 */
export const defaultProvider = (init: FromEnvInit = {}) => fromEnv(init);
