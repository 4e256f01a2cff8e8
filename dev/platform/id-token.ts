/**
 * The id_token of an LtiResourceLinkRequest or an LtiDeepLinkingRequest, shaped as Moodle 4.x
 * shapes it (`core_ltix\oauth_helper::sign_jwt`): LTI Core 1.3 §5.3 required claims, §5.4
 * optional ones, the user's OIDC claims, Moodle's `lis` and `ext` claims, and the services the
 * tool was granted (AGS endpoint, NRPS). Pure: no keys, no clock.
 */
import type { JWTPayload } from "jose";
import { CLAIM, LTI_VERSION, MESSAGE_TYPE } from "./claims.js";
import type { DocumentTarget } from "./message-hint.js";
import { type Course, fullName, type PlatformUser, type ResourceLink } from "./seed.js";

/** Moodle's id_tokens live 60 seconds (`'exp' => $now + 60`). */
export const ID_TOKEN_LIFETIME_SECONDS = 60;

export interface PlatformIdentity {
  /** The site URL without a trailing slash: Moodle's `$CFG->wwwroot`. */
  readonly issuer: string;
  /** Site full name: `tool_platform.name`. */
  readonly name: string;
  /** Moodle's default `tool_consumer_instance_guid` is the site's host name. */
  readonly guid: string;
  /** `$CFG->version` of Moodle 4.5. */
  readonly version: string;
}

/** The AGS endpoint claim (AGS 2.0 §3.1): the scopes granted and the course's line items. */
export interface AgsEndpoint {
  readonly scope: readonly string[];
  readonly lineitems: string;
  /** The link's own line item, when it has one. */
  readonly lineitem?: string;
}

/** The NRPS claim (NRPS 2.0 §3.6.1.1). */
export interface NrpsService {
  readonly context_memberships_url: string;
  readonly service_versions: readonly string[];
}

/** What both kinds of launch share. */
export interface LaunchBase {
  readonly platform: PlatformIdentity;
  readonly clientId: string;
  readonly deploymentId: string;
  readonly user: PlatformUser;
  readonly course: Course;
  readonly roles: readonly string[];
  readonly targetLinkUri: string;
  readonly nonce: string;
  readonly documentTarget: DocumentTarget;
  readonly returnUrl: string;
  /** Issue time, epoch seconds. */
  readonly issuedAt: number;
  readonly oidcLocale: boolean;
  readonly custom: Readonly<Record<string, string>>;
  readonly ags?: AgsEndpoint;
  readonly nrps?: NrpsService;
}

/** The deep_linking_settings claim (Deep Linking 2.0 §4.4.1). */
export interface DeepLinkingSettings {
  readonly deep_link_return_url: string;
  readonly accept_types: readonly string[];
  readonly accept_presentation_document_targets: readonly string[];
  readonly accept_multiple: boolean;
  /** Moodle 4.x sends none (Deep Linking 2.0 §4.4.1: then "no assumption" is to be made). */
  readonly accept_lineitem?: boolean;
  readonly auto_create: boolean;
  readonly data: string;
}

export interface DeepLinkingLaunch extends LaunchBase {
  readonly settings: DeepLinkingSettings;
}

export interface ResourceLinkLaunch {
  readonly platform: PlatformIdentity;
  readonly clientId: string;
  readonly deploymentId: string;
  readonly user: PlatformUser;
  readonly course: Course;
  readonly link: ResourceLink;
  readonly roles: readonly string[];
  readonly targetLinkUri: string;
  readonly nonce: string;
  readonly documentTarget: DocumentTarget;
  readonly returnUrl: string;
  /** Issue time, epoch seconds. */
  readonly issuedAt: number;
  /**
   * Also send the OIDC `locale` claim. Real Moodle sends the language only in
   * `launch_presentation.locale`; turn this off to check a tool copes with that.
   */
  readonly oidcLocale: boolean;
  /** Custom parameters; the link's own when absent. */
  readonly custom?: Readonly<Record<string, string>>;
  readonly ags?: AgsEndpoint;
  readonly nrps?: NrpsService;
}

export function resourceLinkClaims(launch: ResourceLinkLaunch): JWTPayload {
  const { link } = launch;
  const claims = baseClaims({ ...launch, custom: launch.custom ?? link.custom }, MESSAGE_TYPE.resourceLink);
  claims[CLAIM.resourceLink] = { id: link.id, title: link.title, description: link.description };
  return claims;
}

/** An LtiDeepLinkingRequest: no resource_link, the deep_linking_settings instead (DL 2.0 §4.4). */
export function deepLinkingClaims(launch: DeepLinkingLaunch): JWTPayload {
  const claims = baseClaims(launch, MESSAGE_TYPE.deepLinking);
  claims[CLAIM.deepLinkingSettings] = { ...launch.settings };
  return claims;
}

function baseClaims(launch: LaunchBase, messageType: string): JWTPayload {
  const { platform, user, course } = launch;
  return {
    iss: platform.issuer,
    // Moodle sends a single audience as a string; azp (OIDC Core §2) names the same client.
    aud: launch.clientId,
    azp: launch.clientId,
    sub: user.id,
    iat: launch.issuedAt,
    exp: launch.issuedAt + ID_TOKEN_LIFETIME_SECONDS,
    nonce: launch.nonce,
    name: fullName(user),
    given_name: user.givenName,
    family_name: user.familyName,
    email: user.email,
    ...(launch.oidcLocale ? { locale: user.locale } : {}),
    [CLAIM.messageType]: messageType,
    [CLAIM.version]: LTI_VERSION,
    [CLAIM.deploymentId]: launch.deploymentId,
    [CLAIM.targetLinkUri]: launch.targetLinkUri,
    [CLAIM.roles]: [...launch.roles],
    [CLAIM.context]: {
      id: course.id,
      label: course.shortName,
      title: course.fullName,
      type: [...course.contextType],
    },
    [CLAIM.toolPlatform]: {
      guid: platform.guid,
      name: platform.name,
      product_family_code: "moodle",
      version: platform.version,
    },
    [CLAIM.launchPresentation]: {
      locale: user.locale,
      document_target: launch.documentTarget,
      return_url: launch.returnUrl,
    },
    [CLAIM.custom]: { ...launch.custom },
    // Moodle maps `lis_person_sourcedid` (user idnumber) and `lis_course_section_sourcedid`
    // (course idnumber) here, empty strings included.
    [CLAIM.lis]: { person_sourcedid: user.idNumber, course_section_sourcedid: course.idNumber },
    [CLAIM.ext]: { user_username: user.username, lms: "moodle-2" },
    ...(launch.ags ? { [CLAIM.agsEndpoint]: { ...launch.ags, scope: [...launch.ags.scope] } } : {}),
    ...(launch.nrps
      ? { [CLAIM.nrpsService]: { ...launch.nrps, service_versions: [...launch.nrps.service_versions] } }
      : {}),
  };
}
