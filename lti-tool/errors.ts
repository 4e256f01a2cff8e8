import { AppError, type AppErrorOptions, type NextStep } from "../domain/errors.js";

/**
 * LTI launch and login failures. Each has a stable `code` (tests assert on it) and a message
 * in plain words for the person in front of the LMS; the technical detail goes to the log
 * through `context`.
 */
export abstract class LtiError extends AppError {
  readonly status: number = 400;
  readonly title: string = "The launch from your LMS could not be completed";
  /** Most launch failures are the LMS's set-up, which the person in front of it cannot mend. */
  static override readonly nextStep: NextStep | undefined = "administrator";
}

export class InvalidLoginRequestError extends LtiError {
  readonly code = "lti.invalid_login_request";
}
export class UnregisteredPlatformError extends LtiError {
  readonly code = "lti.unregistered_platform";
}
export class AmbiguousClientError extends LtiError {
  readonly code = "lti.ambiguous_client";
}
export class UnregisteredDeploymentError extends LtiError {
  readonly code = "lti.unregistered_deployment";
}
/** The id_token names another deployment than the login initiation's `lti_deployment_id`. */
export class DeploymentMismatchError extends LtiError {
  readonly code = "lti.deployment_mismatch";
  static override readonly nextStep: NextStep | undefined = "relaunch";
}
export class PlatformReturnedError extends LtiError {
  readonly code = "lti.platform_error";
}
export class InvalidLaunchRequestError extends LtiError {
  readonly code = "lti.invalid_launch_request";
}
/** `state` was never issued, or has expired. */
export class UnknownStateError extends LtiError {
  readonly code = "lti.unknown_state";
  static override readonly nextStep: NextStep | undefined = "relaunch";
}
/** `state` was issued but already used once. */
export class StateReplayedError extends LtiError {
  readonly code = "lti.state_replayed";
  static override readonly nextStep: NextStep | undefined = "relaunch";
}
/** The deep-linking picker's answer was sent before: the same page posted again adds nothing twice. */
export class DeepLinkingAnswerReplayedError extends LtiError {
  readonly code = "lti.deep_linking_answer_replayed";
  override readonly title = "This page was already used";
  static override readonly nextStep: NextStep | undefined = "relaunch";
}
/** The browser that finished the launch is not the one that started it (no or wrong binding). */
export class StateNotBoundError extends LtiError {
  readonly code = "lti.state_not_bound";
  static override readonly nextStep: NextStep | undefined = "relaunch";
  override readonly status = 401;
}
export class MalformedTokenError extends LtiError {
  readonly code = "lti.malformed_token";
}
export class UnsupportedAlgorithmError extends LtiError {
  readonly code = "lti.unsupported_algorithm";
}
export class MissingKidError extends LtiError {
  readonly code = "lti.missing_kid";
}
export class UnknownKidError extends LtiError {
  readonly code = "lti.unknown_kid";
}
export class InvalidSignatureError extends LtiError {
  readonly code = "lti.invalid_signature";
}
export class PlatformJwksUnavailableError extends LtiError {
  readonly code = "lti.platform_jwks_unavailable";
  static override readonly nextStep: NextStep | undefined = "retry-later";
  override readonly status = 502;
}
export class IssuerMismatchError extends LtiError {
  readonly code = "lti.issuer_mismatch";
}
export class AudienceMismatchError extends LtiError {
  readonly code = "lti.audience_mismatch";
}
export class AuthorizedPartyMismatchError extends LtiError {
  readonly code = "lti.azp_mismatch";
}
export class TokenExpiredError extends LtiError {
  readonly code = "lti.token_expired";
  static override readonly nextStep: NextStep | undefined = "relaunch";
}
export class InvalidIssuedAtError extends LtiError {
  readonly code = "lti.invalid_iat";
}
/** The id_token's `nbf` is still ahead (RFC 7519 §4.1.5): the LMS's clock, most likely. */
export class TokenNotYetValidError extends LtiError {
  readonly code = "lti.token_not_yet_valid";
}
/** The login's `target_link_uri` or the launch's claim is not an address of this tool (OIDC third-party login). */
export class TargetLinkNotToolError extends LtiError {
  readonly code = "lti.target_link_not_tool";
}
/** A launch without `sub` (LTI Core §5.3.6: anonymous): the tool keeps each candidate's own work. */
export class AnonymousLaunchError extends LtiError {
  readonly code = "lti.anonymous_launch";
}
export class NonceMismatchError extends LtiError {
  readonly code = "lti.nonce_mismatch";
  static override readonly nextStep: NextStep | undefined = "relaunch";
}
export class NonceReplayedError extends LtiError {
  readonly code = "lti.nonce_replayed";
  static override readonly nextStep: NextStep | undefined = "relaunch";
}
export class UnsupportedVersionError extends LtiError {
  readonly code = "lti.unsupported_version";
}
export class UnknownMessageTypeError extends LtiError {
  readonly code = "lti.unknown_message_type";
}
/** Required claims missing or malformed; `issues` names each claim. */
export class InvalidClaimsError extends LtiError {
  readonly code = "lti.invalid_claims";
  constructor(
    userMessage: string,
    readonly issues: readonly { path: string; message: string }[],
    options: AppErrorOptions = {},
  ) {
    super(userMessage, options);
  }
}
/** What the launch carries is too big for the token the tool hands the browser (deep-linking `data`, say). */
export class LaunchTooLargeError extends LtiError {
  readonly code = "lti.launch_too_large";
}
export class InvalidSessionError extends AppError {
  readonly status = 401;
  readonly code = "session.invalid";
  readonly title = "Your session has ended";
  static override readonly nextStep: NextStep | undefined = "relaunch";
}

/**
 * A catch handler for opening a sealed value: a forged, expired or foreign one is not ours
 * (undefined); any other failure, such as failing to load the secret, is rethrown.
 */
export function undefinedIfInvalid(error: unknown): undefined {
  if (error instanceof InvalidSessionError) return undefined;
  throw error;
}
