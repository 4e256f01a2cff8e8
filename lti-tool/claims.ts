import * as z from "../domain/zod.js";

/** Claim names from LTI Core 1.3 §5 and the Advantage specs. */
export const CLAIM = {
  messageType: "https://purl.imsglobal.org/spec/lti/claim/message_type",
  version: "https://purl.imsglobal.org/spec/lti/claim/version",
  deploymentId: "https://purl.imsglobal.org/spec/lti/claim/deployment_id",
  targetLinkUri: "https://purl.imsglobal.org/spec/lti/claim/target_link_uri",
  resourceLink: "https://purl.imsglobal.org/spec/lti/claim/resource_link",
  roles: "https://purl.imsglobal.org/spec/lti/claim/roles",
  context: "https://purl.imsglobal.org/spec/lti/claim/context",
  toolPlatform: "https://purl.imsglobal.org/spec/lti/claim/tool_platform",
  launchPresentation: "https://purl.imsglobal.org/spec/lti/claim/launch_presentation",
  custom: "https://purl.imsglobal.org/spec/lti/claim/custom",
  lis: "https://purl.imsglobal.org/spec/lti/claim/lis",
  roleScopeMentor: "https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor",
  deepLinkingSettings: "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings",
  ags: "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint",
  nrps: "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice",
} as const;

export const LTI_VERSION = "1.3.0";
export const MESSAGE_TYPES = ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Claims every LTI message carries (Core §5.3), checked after the signature. */
const BaseClaimsSchema = z.object({
  iss: z.string().check(z.minLength(1)),
  aud: z.union([
    z.string().check(z.minLength(1)),
    z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  ]),
  azp: z.optional(z.string().check(z.minLength(1))),
  exp: z.number(),
  iat: z.number(),
  nonce: z.string().check(z.minLength(1)),
  name: z.optional(z.string()),
  given_name: z.optional(z.string()),
  family_name: z.optional(z.string()),
  email: z.optional(z.string()),
  locale: z.optional(z.string()),
  [CLAIM.version]: z.literal(LTI_VERSION),
  [CLAIM.deploymentId]: z.string().check(z.minLength(1), z.maxLength(255)),
  [CLAIM.targetLinkUri]: z.url(),
  // Roles must be present, may be empty (Core §5.3.7: anonymous or no-role users).
  [CLAIM.roles]: z.array(z.string()),
  [CLAIM.context]: z.optional(
    z.object({
      id: z.string().check(z.minLength(1), z.maxLength(255)),
      label: z.optional(z.string()),
      title: z.optional(z.string()),
      type: z.optional(z.array(z.string())),
    }),
  ),
  [CLAIM.toolPlatform]: z.optional(
    z.object({
      guid: z.optional(z.string().check(z.maxLength(255))),
      name: z.optional(z.string()),
      product_family_code: z.optional(z.string()),
      version: z.optional(z.string()),
    }),
  ),
  [CLAIM.launchPresentation]: z.optional(
    z.object({
      document_target: z.optional(z.string()),
      return_url: z.optional(z.string()),
      locale: z.optional(z.string()),
      height: z.optional(z.number()),
      width: z.optional(z.number()),
    }),
  ),
  [CLAIM.custom]: z.optional(z.record(z.string(), z.unknown())),
  [CLAIM.ags]: z.optional(
    z.object({
      scope: z.array(z.string()),
      lineitems: z.optional(z.url()),
      lineitem: z.optional(z.url()),
    }),
  ),
  [CLAIM.nrps]: z.optional(
    z.object({
      context_memberships_url: z.url(),
      service_versions: z.optional(z.array(z.string())),
    }),
  ),
});

/** LtiResourceLinkRequest (Core §5.4): `sub` required here (no anonymous launches). */
export const ResourceLinkClaimsSchema = z.extend(BaseClaimsSchema, {
  sub: z.string().check(z.minLength(1), z.maxLength(255)),
  [CLAIM.messageType]: z.literal("LtiResourceLinkRequest"),
  [CLAIM.resourceLink]: z.object({
    id: z.string().check(z.minLength(1), z.maxLength(255)),
    title: z.optional(z.string()),
    description: z.optional(z.string()),
  }),
});

/** LtiDeepLinkingRequest (Deep Linking 2.0 §4.4). */
export const DeepLinkingClaimsSchema = z.extend(BaseClaimsSchema, {
  sub: z.string().check(z.minLength(1), z.maxLength(255)),
  [CLAIM.messageType]: z.literal("LtiDeepLinkingRequest"),
  [CLAIM.deepLinkingSettings]: z.object({
    deep_link_return_url: z.url(),
    accept_types: z.array(z.string()).check(z.minLength(1)),
    accept_presentation_document_targets: z.array(z.string()).check(z.minLength(1)),
    accept_media_types: z.optional(z.string()),
    accept_multiple: z.optional(z.boolean()),
    accept_lineitem: z.optional(z.boolean()),
    auto_create: z.optional(z.boolean()),
    title: z.optional(z.string()),
    text: z.optional(z.string()),
    data: z.optional(z.string()),
  }),
});

export type ResourceLinkClaims = z.infer<typeof ResourceLinkClaimsSchema>;
export type DeepLinkingClaims = z.infer<typeof DeepLinkingClaimsSchema>;
export type LaunchClaims = ResourceLinkClaims | DeepLinkingClaims;

export const CLAIM_SCHEMAS: Record<MessageType, z.ZodMiniType<LaunchClaims>> = {
  LtiResourceLinkRequest: ResourceLinkClaimsSchema,
  LtiDeepLinkingRequest: DeepLinkingClaimsSchema,
};

/** OIDC third-party login initiation parameters (Core §5.1.1 / Security Framework §5.1.1.1). */
// Lengths are bounded: what is not matched against a registration travels in the sealed state
// (target link, storage target), which must stay short enough for URLs (login-state.ts).
export const LoginInitiationSchema = z.object({
  iss: z.url().check(z.maxLength(2048)),
  login_hint: z.string().check(z.minLength(1), z.maxLength(2048)),
  target_link_uri: z.url().check(z.maxLength(2048)),
  lti_message_hint: z.optional(z.string().check(z.maxLength(4096))),
  lti_deployment_id: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
  client_id: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
  // LTI Platform Storage: the frame the tool posts lti.put_data / lti.get_data to.
  lti_storage_target: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
});
export type LoginInitiation = z.infer<typeof LoginInitiationSchema>;

/** The form the platform posts to the redirect URI (OIDC form_post response). */
export const LaunchFormSchema = z.union([
  z.object({ id_token: z.string().check(z.minLength(1)), state: z.string().check(z.minLength(1)) }),
  z.object({
    error: z.string().check(z.minLength(1)),
    error_description: z.optional(z.string()),
    state: z.optional(z.string()),
  }),
]);
