/**
 * The xAPI part of the product, for wiring (see statements/README.md). Pure code only: the
 * DynamoDB outbox and route store are in adapters/dynamo/outbox.ts and lrs-routes.ts, the
 * Lambda entry points in functions/forwarder, the admin function's routes in functions/admin/routes/xapi.tsx.
 */
export {
  type ActorIdentifierType,
  ActorIdentifierTypeSchema,
  activityIris,
  type BuiltStatement,
  buildStatement,
  STATEMENT_BUILDERS,
  type StatementSettings,
  standardLabelsFrom,
  statementIdFor,
} from "./builders.js";
export {
  type CipherKey,
  type CredentialCipher,
  createAesGcmCipher,
  type SealedSecret,
} from "./credential-cipher.js";
export {
  CredentialsUnreadableError,
  InvalidLrsRouteError,
  LrsRouteNotFoundError,
  ParkedStatementNotFoundError,
  StatementTooLargeError,
} from "./errors.js";
export {
  DEFAULT_FORWARDER_POLICY,
  deliverBatch,
  drainRoute,
  type ForwarderDeps,
  type ForwarderEvent,
  type ForwarderLoopOptions,
  type ForwarderPolicy,
  forwardEntries,
  startForwarderLoop,
} from "./forwarder.js";
export { createLrsClient, XAPI_VERSION } from "./lrs-client.js";
export * from "./ports.js";
export { findConcept, findTemplate, hltaProfile, templateForEvent } from "./profile.js";
export { checkAgainstTemplate } from "./template-check.js";
export { PROFILE_IRI, PROFILE_VERSION_IRI } from "./vocabulary.js";
