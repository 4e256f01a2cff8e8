/**
 * The one error hierarchy of the product. Every error a user or a caller can cause is an
 * `AppError`: it knows its HTTP status, a stable problem type (RFC 9457 `type`), a short
 * title, and a plain-words message safe to show to the person in front of the LMS.
 * Errors are mapped to HTTP in one place (the app's `onError`), never by message text.
 */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** Reference id shown to the user and written in the log beside the detail. */
  reference?: string;
  issues?: readonly { path: string; message: string }[];
}

export const PROBLEM_BASE = "https://hlta.tool/problems/";

/**
 * What the person in front of the page can do about an error, said on the error page after what
 * went wrong: open the activity again from their course (a launch that expired, was reloaded or
 * sent twice), tell someone who can change the LMS's or the tool's set-up (nothing they do will
 * mend it), or try again later (a service the tool depends on failed).
 */
export type NextStep = "relaunch" | "administrator" | "retry-later";

export interface AppErrorOptions {
  cause?: unknown;
  /** Logged beside the error, never shown. */
  context?: Record<string, unknown>;
  /** Overrides the class's `nextStep` for this one error. */
  nextStep?: NextStep;
  /** A link the error page offers as the way on (a path of the tool's own, never user input). */
  action?: { label: string; href: string };
}

export abstract class AppError extends Error {
  /** HTTP status when the error reaches the edge. */
  abstract readonly status: number;
  /** Stable machine code, e.g. `lti.nonce_replayed`: tests assert on it, never on messages. */
  abstract readonly code: string;
  /** Short title for a problem document or an error page heading. */
  abstract readonly title: string;
  /** Extra structured context, logged with the error (never shown verbatim to users). */
  readonly context: Record<string, unknown>;
  /** What errors of this kind leave the person to do (error pages); an instance may say otherwise. */
  static readonly nextStep: NextStep | undefined = undefined;
  /** What the person can do about this error, said on the error page after the message. */
  readonly nextStep: NextStep | undefined;
  /** The error page's button, if the way on is a page of the tool's. */
  readonly action: { label: string; href: string } | undefined;

  constructor(
    /** Plain words for the user: what went wrong (and, if `nextStep` does not say it, what to do). */
    readonly userMessage: string,
    options: AppErrorOptions = {},
  ) {
    super(userMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.context = options.context ?? {};
    this.nextStep = options.nextStep ?? (new.target as unknown as typeof AppError).nextStep;
    this.action = options.action;
  }

  toProblem(reference?: string): ProblemDetails {
    return {
      type: `${PROBLEM_BASE}${this.code}`,
      title: this.title,
      status: this.status,
      detail: this.userMessage,
      ...(reference ? { reference } : {}),
    };
  }
}

/** Input that failed validation; carries every issue at once. */
export class ValidationError extends AppError {
  readonly status = 400;
  readonly code: string = "validation";
  readonly title = "The request is not valid";
  constructor(
    userMessage: string,
    readonly issues: readonly { path: string; message: string }[] = [],
    options: AppErrorOptions = {},
  ) {
    super(userMessage, options);
  }
  override toProblem(reference?: string): ProblemDetails {
    return { ...super.toProblem(reference), issues: this.issues };
  }
}

export class NotFoundError extends AppError {
  readonly status = 404;
  readonly code = "not_found";
  readonly title = "Not found";
}

/** A write that lost a race or repeated a single-use action. */
export class ConflictError extends AppError {
  readonly status = 409;
  readonly code: string = "conflict";
  readonly title = "Conflict";
}

export class UnauthorizedError extends AppError {
  readonly status = 401;
  readonly code: string = "unauthorized";
  readonly title = "Not signed in";
}

export class ForbiddenError extends AppError {
  readonly status = 403;
  readonly code: string = "forbidden";
  readonly title = "Not allowed";
}

/** A feature announced but not built yet: answered honestly, never as a 500. */
export class NotImplementedYetError extends AppError {
  readonly status = 501;
  readonly code = "not_implemented_yet";
  readonly title = "Not available yet";
}

/** A dependency (platform, LRS, storage) failed; the user's input was fine. */
export class UpstreamError extends AppError {
  readonly status = 502;
  readonly code: string = "upstream";
  readonly title = "A service the tool depends on failed";
  static override readonly nextStep: NextStep | undefined = "retry-later";
}

/** Turn zod issues into our issue list. Kept here so every boundary reports them alike. */
export function issuesFromZod(error: {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(root)", message: i.message }));
}
