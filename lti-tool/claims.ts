import * as z from "zod";

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
  iss: z.string().min(1),
  aud: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  azp: z.string().min(1).optional(),
  exp: z.number(),
  iat: z.number(),
  nonce: z.string().min(1),
  name: z.string().optional(),
  given_name: z.string().optional(),
  family_name: z.string().optional(),
  email: z.string().optional(),
  locale: z.string().optional(),
  [CLAIM.version]: z.literal(LTI_VERSION),
  [CLAIM.deploymentId]: z.string().min(1).max(255),
  [CLAIM.targetLinkUri]: z.string().url(),
  // Roles must be present, may be empty (Core §5.3.7: anonymous or no-role users).
  [CLAIM.roles]: z.array(z.string()),
  [CLAIM.context]: z
    .object({
      id: z.string().min(1).max(255),
      label: z.string().optional(),
      title: z.string().optional(),
      type: z.array(z.string()).optional(),
    })
    .optional(),
  [CLAIM.toolPlatform]: z
    .object({
      guid: z.string().max(255).optional(),
      name: z.string().optional(),
      product_family_code: z.string().optional(),
      version: z.string().optional(),
    })
    .optional(),
  [CLAIM.launchPresentation]: z
    .object({
      document_target: z.string().optional(),
      return_url: z.string().optional(),
      locale: z.string().optional(),
      height: z.number().optional(),
      width: z.number().optional(),
    })
    .optional(),
  [CLAIM.custom]: z.record(z.string(), z.unknown()).optional(),
  [CLAIM.ags]: z
    .object({
      scope: z.array(z.string()),
      lineitems: z.string().url().optional(),
      lineitem: z.string().url().optional(),
    })
    .optional(),
  [CLAIM.nrps]: z
    .object({
      context_memberships_url: z.string().url(),
      service_versions: z.array(z.string()).optional(),
    })
    .optional(),
});

/** LtiResourceLinkRequest (Core §5.4): `sub` required here (no anonymous launches). */
export const ResourceLinkClaimsSchema = BaseClaimsSchema.extend({
  sub: z.string().min(1).max(255),
  [CLAIM.messageType]: z.literal("LtiResourceLinkRequest"),
  [CLAIM.resourceLink]: z.object({
    id: z.string().min(1).max(255),
    title: z.string().optional(),
    description: z.string().optional(),
  }),
});

/** LtiDeepLinkingRequest (Deep Linking 2.0 §4.4). */
export const DeepLinkingClaimsSchema = BaseClaimsSchema.extend({
  sub: z.string().min(1).max(255),
  [CLAIM.messageType]: z.literal("LtiDeepLinkingRequest"),
  [CLAIM.deepLinkingSettings]: z.object({
    deep_link_return_url: z.string().url(),
    accept_types: z.array(z.string()).min(1),
    accept_presentation_document_targets: z.array(z.string()).min(1),
    accept_media_types: z.string().optional(),
    accept_multiple: z.boolean().optional(),
    accept_lineitem: z.boolean().optional(),
    auto_create: z.boolean().optional(),
    title: z.string().optional(),
    text: z.string().optional(),
    data: z.string().optional(),
  }),
});

export type ResourceLinkClaims = z.infer<typeof ResourceLinkClaimsSchema>;
export type DeepLinkingClaims = z.infer<typeof DeepLinkingClaimsSchema>;
export type LaunchClaims = ResourceLinkClaims | DeepLinkingClaims;

export const CLAIM_SCHEMAS: Record<MessageType, z.ZodType<LaunchClaims>> = {
  LtiResourceLinkRequest: ResourceLinkClaimsSchema,
  LtiDeepLinkingRequest: DeepLinkingClaimsSchema,
};

/** OIDC third-party login initiation parameters (Core §5.1.1 / Security Framework §5.1.1.1). */
export const LoginInitiationSchema = z.object({
  iss: z.string().url(),
  login_hint: z.string().min(1),
  target_link_uri: z.string().url(),
  lti_message_hint: z.string().optional(),
  lti_deployment_id: z.string().min(1).optional(),
  client_id: z.string().min(1).optional(),
  // LTI Platform Storage: the frame the tool posts lti.put_data / lti.get_data to.
  lti_storage_target: z.string().min(1).optional(),
});
export type LoginInitiation = z.infer<typeof LoginInitiationSchema>;

/** The form the platform posts to the redirect URI (OIDC form_post response). */
export const LaunchFormSchema = z.union([
  z.object({ id_token: z.string().min(1), state: z.string().min(1) }),
  z.object({
    error: z.string().min(1),
    error_description: z.string().optional(),
    state: z.string().optional(),
  }),
]);
