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
  // Reserved for the LTI Advantage issue (the platform's services):
  deepLinkingSettings: "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings",
  agsEndpoint: "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint",
  nrpsService: "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice",
} as const;

export const LTI_VERSION = "1.3.0";

export const MESSAGE_TYPE = {
  resourceLink: "LtiResourceLinkRequest",
  deepLinking: "LtiDeepLinkingRequest",
} as const;
export type MessageType = (typeof MESSAGE_TYPE)[keyof typeof MESSAGE_TYPE];

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
