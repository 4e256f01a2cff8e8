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
    // The message only: a stack would point at this file, not at what to do.
    const stop = new Error(`${error.message}\n(.ci/run installs it on Debian by itself.)`);
    stop.stack = stop.message;
    throw stop;
  }
}
