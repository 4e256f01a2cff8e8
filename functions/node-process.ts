/**
 * Stands in for `node:process` in the Lambda bundles (an esbuild alias in
 * infra/constructs/hlta-function.ts and bench/build-bundles.ts, like lambda-credentials.ts).
 * The AWS SDK's user-agent code imports `env` and `versions` from "node:process". In an ESM
 * bundle that import makes Node build the module's export facade, which reads every property of
 * `process`, lazy ones included: the standard streams are created and the diagnostic-report module
 * is loaded. Measured with callgrind: ≈19 M instructions of a ≈357 M cold import, for values the
 * global `process` already holds. If bundled code ever imports another name from
 * "node:process", esbuild stops with "No matching export", so nothing breaks silently.
 */
export const env = process.env;
export const versions = process.versions;
export default process;
