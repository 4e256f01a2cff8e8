/**
 * Every URI the development platform puts in a message, in one place: claim names (LTI Core
 * 1.3 §5, Advantage specs), role vocabularies (LTI Core §A.2) and context types (§A.1).
 * The platform keeps its own copy on purpose: it must not import the tool's code.
 */

const LTI = "https://purl.imsglobal.org/spec/lti";

export const CLAIM = {
  messageType: `${LTI}/claim/message_type`,
  version: `${LTI}/claim/version`,
  deploymentId: `${LTI}/claim/deployment_id`,
  targetLinkUri: `${LTI}/claim/target_link_uri`,
  resourceLink: `${LTI}/claim/resource_link`,
  roles: `${LTI}/claim/roles`,
  context: `${LTI}/claim/context`,
  toolPlatform: `${LTI}/claim/tool_platform`,
  launchPresentation: `${LTI}/claim/launch_presentation`,
  custom: `${LTI}/claim/custom`,
  lis: `${LTI}/claim/lis`,
  /** Moodle sends `ext` with `lms: "moodle-2"` and `user_username`. */
  ext: `${LTI}/claim/ext`,
  // LTI Advantage: Deep Linking 2.0 (request and response), AGS 2.0, NRPS 2.0.
  deepLinkingSettings: "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings",
  contentItems: "https://purl.imsglobal.org/spec/lti-dl/claim/content_items",
  deepLinkingData: "https://purl.imsglobal.org/spec/lti-dl/claim/data",
  deepLinkingMsg: "https://purl.imsglobal.org/spec/lti-dl/claim/msg",
  deepLinkingLog: "https://purl.imsglobal.org/spec/lti-dl/claim/log",
  deepLinkingErrorMsg: "https://purl.imsglobal.org/spec/lti-dl/claim/errormsg",
  deepLinkingErrorLog: "https://purl.imsglobal.org/spec/lti-dl/claim/errorlog",
  agsEndpoint: "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint",
  nrpsService: "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice",
  // Dynamic Registration 1.0: the tool's half (in the client registration) and the platform's
  // (in its OpenID configuration).
  toolConfiguration: "https://purl.imsglobal.org/spec/lti-tool-configuration",
  platformConfiguration: "https://purl.imsglobal.org/spec/lti-platform-configuration",
} as const;

export const LTI_VERSION = "1.3.0";

export const MESSAGE_TYPE = {
  resourceLink: "LtiResourceLinkRequest",
  deepLinking: "LtiDeepLinkingRequest",
  deepLinkingResponse: "LtiDeepLinkingResponse",
} as const;
export type MessageType = (typeof MESSAGE_TYPE)[keyof typeof MESSAGE_TYPE];

/** OAuth 2 scopes of the LTI Advantage services (AGS 2.0 §3.1, NRPS 2.0 §3.3). */
export const SCOPE = {
  lineItem: "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
  lineItemReadOnly: "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
  resultReadOnly: "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
  score: "https://purl.imsglobal.org/spec/lti-ags/scope/score",
  memberships: "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
} as const;
export type Scope = (typeof SCOPE)[keyof typeof SCOPE];

export const AGS_SCOPES: readonly Scope[] = [
  SCOPE.lineItem,
  SCOPE.lineItemReadOnly,
  SCOPE.resultReadOnly,
  SCOPE.score,
];
/** Every service scope this platform grants. */
export const SERVICE_SCOPES: readonly Scope[] = [...AGS_SCOPES, SCOPE.memberships];

/** Media types of the services (AGS 2.0 §3.2-§3.5, NRPS 2.0 §2.2). */
export const MEDIA_TYPE = {
  lineItem: "application/vnd.ims.lis.v2.lineitem+json",
  lineItemContainer: "application/vnd.ims.lis.v2.lineitemcontainer+json",
  score: "application/vnd.ims.lis.v1.score+json",
  resultContainer: "application/vnd.ims.lis.v2.resultcontainer+json",
  membershipContainer: "application/vnd.ims.lti-nrps.v2.membershipcontainer+json",
} as const;

const LIS = "http://purl.imsglobal.org/vocab/lis/v2";

/** Role URIs (LTI Core §A.2). Moodle sends full URIs in the id_token, short names in NRPS. */
export const ROLE = {
  learner: `${LIS}/membership#Learner`,
  instructor: `${LIS}/membership#Instructor`,
  institutionAdministrator: `${LIS}/institution/person#Administrator`,
  systemAdministrator: `${LIS}/system/person#Administrator`,
} as const;

/** Context types (LTI Core §A.1). Moodle labels every course `CourseSection`. */
export const CONTEXT_TYPE = {
  courseOffering: `${LIS}/course#CourseOffering`,
  courseSection: `${LIS}/course#CourseSection`,
  group: `${LIS}/course#Group`,
} as const;
