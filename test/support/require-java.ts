/**
 * Global setup of the integration and browser layers: they run DynamoDB Local, which needs Java.
 * Without it the run stops here with one message saying how to install it, instead of one
 * stack trace per test file.
 */
import { assertJava, JavaMissingError } from "../../dev/local-services.js";

export default function requireJava(): void {
  try {
    assertJava();
  } catch (error) {
    if (!(error instanceof JavaMissingError)) throw error;
    // The message only, and nothing after it: thrown, it came below vitest's "No test files
    // found" and a "0 passed, 0 failed" summary, which read as if the tests had gone missing.
    process.stderr.write(`\n${error.message}\n(.ci/run installs it on Debian by itself.)\n\n`);
    process.exit(1);
  }
}
