import { defineConfig } from "vitest/config";

// Test layers, told apart by folder (the team's conventions; README, "Tests"):
// unit: no network, AWS SDK faked at the client; integration: DynamoDB Local, s3rver and the
// LRS double on loopback, started by the tests themselves; infra: CDK Template assertions;
// browser: headless Debian chromium driven by playwright-core.
export default defineConfig({
  test: {
    reporters: ["default", "./test/support/summary-reporter.ts"],
    // The SDK warns once per process that its 2027 releases need Node 22; in test output it is noise.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.{ts,tsx}"], environment: "node" } },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.{ts,tsx}"],
          globalSetup: ["./test/support/require-java.ts"],
          setupFiles: ["./test/support/loopback-endpoints.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "infra",
          include: ["test/infra/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          globalSetup: ["./test/support/require-java.ts"],
          setupFiles: ["./test/support/loopback-endpoints.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
