import { isLoopbackHost } from "../domain/endpoints.js";
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

// Bounds. The platform signs these claims, but what the tool keeps (enrolments, the session
// token, DynamoDB keys) must fit its stores, so every value it stores has a limit. They sit far
// above what Moodle and Canvas send, so only a broken or hostile token meets them, with a 400
// that names the claim rather than a failed write later.

/**
 * Text with no control characters, no U+FFFD (bytes that were not UTF-8, which no LMS will send
 * back), and no lone surrogate (a JSON "\ud800" escape): hashed as UTF-8, every lone surrogate
 * becomes U+FFFD's bytes, so "c\ud800" and "c\udfff" would be one course, and
 * encodeURIComponent throws on one.
 */
export const READABLE_TEXT = /^[^\p{Cc}\p{Cs}\uFFFD]*$/u;
export const READABLE_TEXT_ISSUE = "must not contain control characters or unreadable bytes";

/**
 * Identifiers that become parts of DynamoDB keys (client, deployment, user, resource link):
 * 255 characters and 400 bytes, so two of them fit a sort key (1,024 bytes).
 */
export const KeyIdSchema = z
  .string()
  .check(z.minLength(1), z.maxLength(255), z.maxUtf8Bytes(400), z.regex(READABLE_TEXT, READABLE_TEXT_ISSUE));
/** Names and titles the tool shows and stores. */
const Text = z.optional(z.string().check(z.maxLength(1000)));
/** A platform service or return URL. */
const Url = z.url().check(z.maxLength(2048));
/**
 * Where the tool's page may post a signed response: https, or plain http to the person's own
 * machine (a local LMS). An address that does not parse is z.url()'s issue, reported once.
 */
const browserPostable = (u: string): boolean => {
  if (!URL.canParse(u)) return true;
  const url = new URL(u);
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname));
};
/** A list of short strings (roles, context types, scopes). */
const List = (items: number) => z.array(z.string().check(z.maxLength(1000))).check(z.maxLength(items));

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
  name: Text,
  given_name: Text,
  family_name: Text,
  email: z.optional(z.string().check(z.maxLength(320))),
  locale: z.optional(z.string().check(z.maxLength(64))),
  [CLAIM.version]: z.literal(LTI_VERSION),
  [CLAIM.deploymentId]: KeyIdSchema,
  [CLAIM.targetLinkUri]: Url,
  // Roles must be present, may be empty (Core §5.3.7: anonymous or no-role users).
  [CLAIM.roles]: List(100),
  [CLAIM.context]: z.optional(
    z.object({
      id: KeyIdSchema,
      label: Text,
      title: Text,
      type: z.optional(List(20)),
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
      locale: z.optional(z.string().check(z.maxLength(64))),
      height: z.optional(z.number()),
      width: z.optional(z.number()),
    }),
  ),
  [CLAIM.custom]: z.optional(z.record(z.string(), z.unknown())),
  [CLAIM.ags]: z.optional(
    z.object({
      scope: List(20),
      lineitems: z.optional(Url),
      lineitem: z.optional(Url),
    }),
  ),
  [CLAIM.nrps]: z.optional(
    z.object({
      context_memberships_url: Url,
      service_versions: z.optional(List(10)),
    }),
  ),
});

/** LtiResourceLinkRequest (Core §5.4): `sub` required here (no anonymous launches). */
export const ResourceLinkClaimsSchema = z.extend(BaseClaimsSchema, {
  sub: KeyIdSchema,
  [CLAIM.messageType]: z.literal("LtiResourceLinkRequest"),
  [CLAIM.resourceLink]: z.object({
    id: KeyIdSchema,
    title: Text,
    description: z.optional(z.string()),
  }),
});

/** LtiDeepLinkingRequest (Deep Linking 2.0 §4.4). */
export const DeepLinkingClaimsSchema = z.extend(BaseClaimsSchema, {
  sub: KeyIdSchema,
  [CLAIM.messageType]: z.literal("LtiDeepLinkingRequest"),
  [CLAIM.deepLinkingSettings]: z.object({
    // The tool's page posts its signed response there: https (never javascript: or data:, nor
    // plain http across a network), or http to the person's own machine (a local LMS).
    deep_link_return_url: Url.check(z.refine(browserPostable, "must be an https URL")),
    accept_types: List(20).check(z.minLength(1)),
    accept_presentation_document_targets: List(20).check(z.minLength(1)),
    accept_media_types: z.optional(z.string().check(z.maxLength(1000))),
    accept_multiple: z.optional(z.boolean()),
    accept_lineitem: z.optional(z.boolean()),
    auto_create: z.optional(z.boolean()),
    title: Text,
    text: Text,
    // Echoed back unchanged in the response; it travels sealed in the picker's form meanwhile.
    data: z.optional(z.string().check(z.maxLength(2048))),
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
  // The issuer is a DynamoDB partition key (`PLATFORM#<iss>`, at most 2,048 bytes).
  iss: z.url().check(z.maxLength(1024), z.maxUtf8Bytes(1024)),
  login_hint: z.string().check(z.minLength(1), z.maxLength(2048)),
  target_link_uri: z.url().check(z.maxLength(2048)),
  lti_message_hint: z.optional(z.string().check(z.maxLength(4096))),
  lti_deployment_id: z.optional(KeyIdSchema),
  client_id: z.optional(KeyIdSchema),
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
