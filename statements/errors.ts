import { AppError, ValidationError } from "../domain/errors.js";

/** xAPI delivery errors, in the one hierarchy (domain/errors.ts); tests assert on `code`. */

export class ParkedStatementNotFoundError extends AppError {
  readonly status = 404;
  readonly code = "xapi.parked_statement_not_found";
  readonly title = "No such parked statement";
}

export class LrsRouteNotFoundError extends AppError {
  readonly status = 404;
  readonly code = "xapi.route_not_found";
  readonly title = "No such LRS route";
}

/** An LRS route that cannot work: endpoint not an http(s) URL, empty key or secret. */
export class InvalidLrsRouteError extends ValidationError {
  override readonly code = "xapi.invalid_route";
}

/** Stored LRS credentials failed authentication (wrong key, or the item was altered). */
export class CredentialsUnreadableError extends AppError {
  readonly status = 500;
  readonly code = "xapi.credentials_unreadable";
  readonly title = "The LRS credentials cannot be read";
}

/** A statement too large for one outbox item (DynamoDB items are at most 400 KB). */
export class StatementTooLargeError extends AppError {
  readonly status = 500;
  readonly code = "xapi.statement_too_large";
  readonly title = "The statement is too large to record";
}
