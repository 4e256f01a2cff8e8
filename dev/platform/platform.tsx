/**
 * The development LTI 1.3 platform: a local stand-in for Moodle 4.x that launches tools
 * through their public endpoints only (login initiation, redirect URI, JWKS) and offers the
 * LTI Advantage services over HTTP (Dynamic Registration, Deep Linking, token endpoint, AGS,
 * NRPS, Platform Storage), exactly as an LMS would. Never deployed. See README.md beside this file.
 */
import { Hono } from "hono";
import type { JSONWebKeySet, JWTPayload } from "jose";
import * as z from "zod";
import {
  agsUrls,
  type GradebookEntry,
  Gradebook as GradebookStore,
  type LineItem,
  mountAgs,
  type ScoreRecord,
} from "./ags.js";
import { decideAuthRequest } from "./auth.js";
import { AGS_SCOPES, CLAIM, MESSAGE_TYPE, ROLE, SCOPE } from "./claims.js";
import {
  checkDeepLinkingClaims,
  type DeepLinkingResponseRecord,
  DeepLinkingSessions,
  placeContentItems,
} from "./deep-linking.js";
import { FaultInjector, type ServiceCall, ServiceCallLog } from "./faults.js";
import {
  type AgsEndpoint,
  deepLinkingClaims,
  type NrpsService,
  type PlatformIdentity,
  resourceLinkClaims,
} from "./id-token.js";
import { type PlatformKeyPair, PlatformKeyring } from "./keys.js";
import {
  type DocumentTarget,
  DocumentTargetSchema,
  type LaunchHint,
  MessageHintCodec,
} from "./message-hint.js";
import { membershipsUrl, mountNrps } from "./nrps.js";
import {
  type AdminUrls,
  AutoSubmitFormPage,
  CourseLaunchPage,
  CoursePage,
  DeepLinkingReturnPage,
  ErrorPage,
  type FormField,
  type GradebookColumn,
  GradebookPage,
  HomePage,
  type LaunchUrls,
  ReturnPage,
  StorageFramePage,
  type StorageHost,
} from "./pages.js";
import { platformStorageScript, registrationDialogScript } from "./postmessage.js";
import {
  openIdConfiguration,
  type RegistrationRecord,
  RegistrationTokens,
  registerTool,
} from "./registration.js";
import { DEFAULT_SEED, PlatformDirectory, type PlatformSeed, type ResourceLink } from "./seed.js";
import { json, mediaTypeOf, type ServiceContext } from "./services.js";
import { type TokenRequestRecord, TokenService } from "./token.js";
import { ToolKeySets } from "./tool-jwt.js";
import {
  configuredTool,
  generateClientId,
  type RegisteredTool,
  supportsMessage,
  ToolRegistry,
  UnknownToolError,
} from "./tools.js";

export type { RegisteredTool } from "./tools.js";

/** Moodle's paths, relative to the site URL. */
export const MOODLE_PATHS = {
  home: "/",
  course: "/course/view.php",
  /** Hosts a deep-linking launch: "Add an activity" with a tool. */
  addActivity: "/course/modedit.php",
  gradebook: "/grade/report/grader/index.php",
  launch: "/mod/lti/launch.php",
  /** Starts a deep-linking launch (Moodle's content item selection). */
  contentItem: "/mod/lti/contentitem.php",
  contentItemReturn: "/mod/lti/contentitem_return.php",
  auth: "/mod/lti/auth.php",
  token: "/mod/lti/token.php",
  jwks: "/mod/lti/certs.php",
  return: "/mod/lti/return.php",
  openIdConfiguration: "/mod/lti/openid-configuration.php",
  wellKnownOpenIdConfiguration: "/.well-known/openid-configuration",
  registration: "/mod/lti/openid-registration.php",
  startRegistration: "/mod/lti/startltiadvregistration.php",
  toolConfigure: "/mod/lti/toolconfigure.php",
  services: "/mod/lti/services.php",
  storageFrame: "/mod/lti/post_message_forwarding.php",
} as const;

const HttpUrlSchema = z.url({ protocol: /^https?$/ });

const ToolOptionsSchema = z.object({
  loginInitiationUrl: HttpUrlSchema,
  targetLinkUri: HttpUrlSchema,
  /** Defaults to `[targetLinkUri]`. */
  redirectUris: z.array(HttpUrlSchema).min(1).optional(),
  /** The tool's public keys: the token endpoint and deep-linking responses are checked against them. */
  jwksUrl: HttpUrlSchema.optional(),
  name: z.string().min(1).optional(),
  /** Service scopes granted (default: every AGS scope and NRPS). */
  scopes: z.array(z.string().min(1)).optional(),
  /** Where deep-linking requests go (default `targetLinkUri`); `false`: the tool takes none. */
  deepLinkingUrl: z.union([HttpUrlSchema, z.literal(false)]).optional(),
  /** Custom parameters for every launch of the tool. */
  custom: z.record(z.string(), z.string()).optional(),
});
export type DevPlatformToolOptions = z.input<typeof ToolOptionsSchema>;

export interface PlatformStorageOptions {
  /**
   * The `lti_storage_target`: a named frame beside the tool's (Canvas: `post_message_forwarding`,
   * the default) or `_parent` (the page around the tool's frame, as Sakai).
   */
  readonly target?: string;
}

export interface DevPlatformOptions {
  /** The platform's public URL, e.g. `http://localhost:8790`; the issuer is this without a trailing slash. */
  readonly baseUrl: string;
  /** The tool configured by hand: the first registered tool. */
  readonly tool: DevPlatformToolOptions;
  /** Stable if given; otherwise a random 15-character id, like Moodle's. */
  readonly clientId?: string;
  /** Moodle uses the tool type's number: "1" for the first tool. */
  readonly deploymentId?: string;
  /** RS256 key pair; a fresh 2048-bit one when absent. */
  readonly keyPair?: PlatformKeyPair;
  /** Site full name (`tool_platform.name`). */
  readonly name?: string;
  readonly seed?: PlatformSeed;
  /** Clock in epoch milliseconds (tests). */
  readonly now?: () => number;
  /** Also send the OIDC `locale` claim beside `launch_presentation.locale` (default true). */
  readonly oidcLocale?: boolean;
  /**
   * LTI Platform Storage (postMessage), as Canvas offers it. Off by default: Moodle 4.x does not
   * support it. `true` means `{ target: "post_message_forwarding" }`.
   */
  readonly platformStorage?: boolean | PlatformStorageOptions;
  /** Page size of the memberships service when the tool asks for no `limit` (default 10; 0: all, as Moodle). */
  readonly membershipsPageSize?: number;
  /** How the platform fetches tools' JWKS (default: global fetch). */
  readonly fetchImpl?: typeof fetch;
}

/** What a tool administrator types in to register this platform. */
export interface PlatformRegistration {
  readonly issuer: string;
  readonly clientId: string;
  readonly authUrl: string;
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  readonly deploymentIds: readonly string[];
  readonly name: string;
}

/** A launch to start: references are ids or names (username, course short name). */
export interface LaunchRequest {
  readonly course?: string;
  readonly user: string;
  /** Resource link id; the course's first link by default. */
  readonly link?: string;
  readonly target?: DocumentTarget;
  /** A resource link launch (default) or a deep-linking request (needs `course`, a teacher). */
  readonly message?: "resource-link" | "deep-linking";
  /** For deep linking: the tool's client_id or type id (default: the first tool). */
  readonly tool?: string;
}

/** The third-party login initiation (LTI Core §4.1), as Moodle POSTs it. */
export interface LoginInitiation {
  readonly action: string;
  readonly fields: readonly FormField[];
}

/** A line item as the platform holds it, with its AGS URL. */
export interface LineItemView extends LineItem {
  readonly url: string;
}

/** An activity to add to a course by hand (without deep linking). */
export interface NewLink {
  readonly course: string;
  readonly title: string;
  /** client_id or type id; the first tool by default. */
  readonly tool?: string;
  readonly description?: string;
  readonly targetLinkUri?: string;
  readonly custom?: Readonly<Record<string, string>>;
  /** Also a gradebook line item bound to the link (launches then carry its `lineitem` URL). */
  readonly lineItem?: {
    readonly scoreMaximum: number;
    readonly label?: string;
    readonly resourceId?: string;
    readonly tag?: string;
  };
}

export interface DevPlatform {
  readonly app: Hono;
  readonly baseUrl: string;
  /** The tool configured by hand (the first registered tool), as it stands now. */
  readonly tool: RegisteredTool;
  readonly directory: PlatformDirectory;
  readonly urls: PlatformUrls;
  /** What to register in the tool; for the first tool unless another's client_id or type id is given. */
  registration(tool?: string): PlatformRegistration;
  /** The current signing key's id. */
  kid(): string;
  jwks(): JSONWebKeySet;
  /** New signing key with a new `kid`; the old key leaves the JWKS. Returns the new kid. */
  rotateKey(keyPair?: PlatformKeyPair): Promise<string>;
  /** Signs any payload with the current key (header `kid`, RS256). */
  sign(payload: JWTPayload): Promise<string>;
  /** The login initiation form for a launch; throws `LaunchRefusedError`. */
  loginInitiation(request: LaunchRequest): LoginInitiation;

  /** Every registered tool: the configured one first, then those added by Dynamic Registration. */
  tools(): readonly RegisteredTool[];
  /** An administrator activates a pending tool (by client_id or type id). */
  activateTool(tool: string): RegisteredTool;
  /**
   * Dynamic Registration, as the admin's "Add LTI Advantage" does: the URL the browser opens,
   * the tool's registration URL with `openid_configuration` and a fresh `registration_token`.
   */
  startDynamicRegistration(toolRegistrationUrl: string): Promise<string>;
  /** Every POST to the registration endpoint, body as received. */
  registrations(): readonly RegistrationRecord[];
  /** Every token request, with the decoded client assertion. */
  tokenRequests(): readonly TokenRequestRecord[];
  /** Line items, all or a course's. */
  lineItems(course?: string): readonly LineItemView[];
  /** Every score POSTed, exactly as received, accepted or not. */
  scores(): readonly ScoreRecord[];
  /** The gradebook's cells: the last accepted score per user and line item. */
  gradebook(course?: string): readonly GradebookEntry[];
  /** Every deep-linking response, decoded. */
  deepLinkResponses(): readonly DeepLinkingResponseRecord[];
  /** Every call to the OpenID configuration, registration, token and service endpoints. */
  serviceCalls(): readonly ServiceCall[];
  /** Answer the next N service (or token) calls with 429/5xx and Retry-After. */
  readonly faults: FaultInjector;
  /** Adds an activity to a course, as a teacher does by hand. */
  addLink(link: NewLink): ResourceLink;
}

export interface PlatformUrls extends LaunchUrls {
  readonly home: string;
  readonly auth: string;
  readonly token: string;
  readonly jwks: string;
  /** `/.well-known/openid-configuration` (also served at Moodle's openid-configuration.php). */
  readonly openIdConfiguration: string;
  readonly registrationEndpoint: string;
  /** Starts a deep-linking launch. */
  deepLinking(courseId: string, userId: string, typeId: string, target: DocumentTarget): string;
}

/** A launch the platform will not start: unknown course, user or link, or not enrolled. */
export class LaunchRefusedError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403 | 404,
  ) {
    super(message);
    this.name = "LaunchRefusedError";
  }
}

const MOODLE_45_VERSION = "2024100700";

const LaunchQuerySchema = z.object({
  course: z.string().min(1).optional(),
  user: z.string().min(1, "user is required (the platform has no login: say who is launching)"),
  link: z.string().min(1).optional(),
  /** Moodle's launch.php takes the activity as `id`. */
  id: z.string().min(1).optional(),
  target: DocumentTargetSchema.default("iframe"),
});

const DeepLinkingQuerySchema = z.object({
  course: z.string().min(1, "course is required"),
  user: z.string().min(1, "user is required (the platform has no login: say who is launching)"),
  /** Moodle's contentitem.php takes the tool type as `id`. */
  id: z.string().min(1).optional(),
  target: DocumentTargetSchema.default("iframe"),
});

const CourseQuerySchema = z.object({
  id: z.string().min(1),
  user: z.string().min(1).optional(),
  link: z.string().min(1).optional(),
});

function refusal(error: z.ZodError): LaunchRefusedError {
  return new LaunchRefusedError(error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "), 400);
}

export async function createDevPlatform(options: DevPlatformOptions): Promise<DevPlatform> {
  const baseUrl = HttpUrlSchema.parse(options.baseUrl).replace(/\/+$/, "");
  const toolOptions = ToolOptionsSchema.parse(options.tool);
  const now = options.now ?? Date.now;
  const keys = await PlatformKeyring.create(options.keyPair);
  const hints = new MessageHintCodec({ now });
  const directory = new PlatformDirectory(options.seed ?? DEFAULT_SEED);
  const oidcLocale = options.oidcLocale ?? true;
  const storageTarget =
    options.platformStorage === true
      ? "post_message_forwarding"
      : options.platformStorage
        ? (options.platformStorage.target ?? "post_message_forwarding")
        : undefined;
  const membershipsPageSize = options.membershipsPageSize ?? 10;

  const identity: PlatformIdentity = {
    issuer: baseUrl,
    name: options.name ?? "HLTA Development Moodle",
    guid: new URL(baseUrl).hostname,
    version: MOODLE_45_VERSION,
  };
  const tools = new ToolRegistry(
    configuredTool({
      clientId: options.clientId ?? generateClientId(),
      deploymentId: options.deploymentId ?? "1",
      name: toolOptions.name ?? "HLTA preparation",
      loginInitiationUrl: toolOptions.loginInitiationUrl,
      targetLinkUri: toolOptions.targetLinkUri,
      redirectUris: toolOptions.redirectUris ?? [toolOptions.targetLinkUri],
      jwksUrl: toolOptions.jwksUrl,
      scopes: toolOptions.scopes,
      deepLinkingUrl: toolOptions.deepLinkingUrl,
      custom: toolOptions.custom,
    }),
  );

  const at = (path: string, query?: Record<string, string | undefined>): string => {
    const url = new URL(path.slice(1), `${baseUrl}/`); // relative, so a site under a path keeps it
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    return url.toString();
  };
  const urls: PlatformUrls = {
    home: at(MOODLE_PATHS.home),
    auth: at(MOODLE_PATHS.auth),
    token: at(MOODLE_PATHS.token),
    jwks: at(MOODLE_PATHS.jwks),
    openIdConfiguration: at(MOODLE_PATHS.wellKnownOpenIdConfiguration),
    registrationEndpoint: at(MOODLE_PATHS.registration),
    coursePage: (courseId, userId, linkId) =>
      at(MOODLE_PATHS.course, { id: courseId, user: userId, link: linkId }),
    launch: (courseId, userId, linkId, target) =>
      at(MOODLE_PATHS.launch, { course: courseId, link: linkId, user: userId, target }),
    deepLinking: (courseId, userId, typeId, target) =>
      at(MOODLE_PATHS.contentItem, { id: typeId, course: courseId, user: userId, target }),
  };
  const admin: AdminUrls = {
    toolConfigure: at(MOODLE_PATHS.toolConfigure),
    startRegistration: at(MOODLE_PATHS.startRegistration),
    gradebook: (courseId) => at(MOODLE_PATHS.gradebook, { id: courseId }),
    addActivity: (courseId, typeId, userId) =>
      at(MOODLE_PATHS.addActivity, { add: "lti", course: courseId, typeid: typeId, user: userId }),
  };

  const keySets = new ToolKeySets(options.fetchImpl ?? fetch);
  const tokens = new TokenService(tools, keySets, now, [urls.token, identity.issuer]);
  const gradebook = new GradebookStore();
  const deepLinkingSessions = new DeepLinkingSessions(now);
  const registrationTokens = new RegistrationTokens(
    (payload) => keys.sign(payload),
    () => keys.jwks(),
    identity.issuer,
    now,
  );
  const registrationLog: RegistrationRecord[] = [];
  const deepLinkLog: DeepLinkingResponseRecord[] = [];
  const faults = new FaultInjector();
  const serviceLog = new ServiceCallLog(now);
  const services: ServiceContext = { tokens, tools, directory, now, at };
  const agsAt = agsUrls(services);

  const registration = (ref?: string): PlatformRegistration => {
    const tool = ref === undefined ? tools.first : tools.get(ref);
    return {
      issuer: identity.issuer,
      clientId: tool.clientId,
      authUrl: urls.auth,
      tokenUrl: urls.token,
      jwksUrl: urls.jwks,
      deploymentIds: [tool.deploymentId],
      name: identity.name,
    };
  };

  const toolOf = (link: ResourceLink): RegisteredTool => {
    const tool = tools.find(link.tool ?? tools.first.clientId);
    if (!tool) throw new LaunchRefusedError(`Activity ${link.id} belongs to no registered tool.`, 404);
    return tool;
  };

  function resolveLaunch(request: { course?: string; user: string; link?: string }) {
    const user = directory.user(request.user);
    if (!user) throw new LaunchRefusedError(`There is no user "${request.user}" on this platform.`, 404);
    let course = request.course === undefined ? undefined : directory.course(request.course);
    if (request.course !== undefined && !course) {
      throw new LaunchRefusedError(`There is no course "${request.course}" on this platform.`, 404);
    }
    const link =
      course !== undefined
        ? directory.link(course.id, request.link)
        : request.link !== undefined
          ? directory.linkById(request.link)
          : undefined;
    if (!link)
      throw new LaunchRefusedError("Say which course (and optionally which activity) to launch.", 404);
    course ??= directory.course(link.courseId);
    if (!course) throw new LaunchRefusedError(`Activity ${link.id} belongs to no course.`, 404);
    const roles = directory.roles(course.id, user);
    if (!roles) {
      throw new LaunchRefusedError(`${user.username} is not enrolled in ${course.shortName}.`, 403);
    }
    return { user, course, link, roles, tool: toolOf(link) };
  }

  function resolveDeepLinking(request: { course?: string; user: string; tool?: string }) {
    const user = directory.user(request.user);
    if (!user) throw new LaunchRefusedError(`There is no user "${request.user}" on this platform.`, 404);
    const course = request.course === undefined ? undefined : directory.course(request.course);
    if (!course) {
      throw new LaunchRefusedError(
        request.course === undefined
          ? "Say which course to add an activity to."
          : `There is no course "${request.course}" on this platform.`,
        404,
      );
    }
    const tool = request.tool === undefined ? tools.first : tools.find(request.tool);
    if (!tool) throw new LaunchRefusedError(`There is no tool "${request.tool}" registered.`, 404);
    if (!supportsMessage(tool, MESSAGE_TYPE.deepLinking)) {
      throw new LaunchRefusedError(`${tool.name} does not take deep-linking requests.`, 400);
    }
    const roles = directory.roles(course.id, user);
    if (!roles) throw new LaunchRefusedError(`${user.username} is not enrolled in ${course.shortName}.`, 403);
    if (!roles.includes(ROLE.instructor)) {
      throw new LaunchRefusedError(`Only teachers add activities: ${user.username} is a student.`, 403);
    }
    return { user, course, roles, tool };
  }

  function loginInitiation(request: LaunchRequest): LoginInitiation {
    const deepLinking = request.message === "deep-linking";
    const target = request.target ?? "iframe";
    const resolved = deepLinking
      ? { ...resolveDeepLinking(request), link: undefined }
      : resolveLaunch(request);
    const { user, course, link, tool } = resolved;
    if (tool.status !== "active") {
      throw new LaunchRefusedError(
        `${tool.name} is pending: a site administrator must activate it first.`,
        403,
      );
    }
    const hint = hints.issue({
      tool: tool.clientId,
      user: user.id,
      course: course.id,
      ...(link ? { link: link.id } : {}),
      messageType: deepLinking ? MESSAGE_TYPE.deepLinking : MESSAGE_TYPE.resourceLink,
      target,
    });
    const targetLinkUri = deepLinking
      ? (tool.deepLinkingUrl ?? tool.targetLinkUri)
      : (link?.targetLinkUri ?? tool.targetLinkUri);
    // Moodle's lti_initiate_login: these six fields, in this order.
    const fields: FormField[] = [
      { name: "iss", value: identity.issuer },
      { name: "target_link_uri", value: targetLinkUri },
      { name: "login_hint", value: user.id },
      { name: "lti_message_hint", value: hint },
      { name: "client_id", value: tool.clientId },
      { name: "lti_deployment_id", value: tool.deploymentId },
    ];
    // Platform Storage is offered where the platform frames the tool (LTI Platform Storage §3).
    if (storageTarget && target === "iframe")
      fields.push({ name: "lti_storage_target", value: storageTarget });
    return { action: tool.loginInitiationUrl, fields };
  }

  /** The services claims for a launch of `tool` in `courseId` (and the link's line item). */
  function serviceClaims(tool: RegisteredTool, courseId: string, link: ResourceLink | undefined) {
    const agsScopes = tool.scopes.filter((s) => (AGS_SCOPES as readonly string[]).includes(s));
    const linked = link
      ? gradebook.lineItems(courseId).filter((i) => i.resourceLinkId === link.id && i.tool === tool.clientId)
      : [];
    const only = linked.length === 1 ? linked[0] : undefined;
    const ags: AgsEndpoint | undefined =
      agsScopes.length > 0
        ? {
            scope: agsScopes,
            lineitems: agsAt.lineItems(courseId, tool.deploymentId),
            ...(only ? { lineitem: agsAt.lineItem(courseId, only.id, tool.deploymentId) } : {}),
          }
        : undefined;
    const nrps: NrpsService | undefined = tool.scopes.includes(SCOPE.memberships)
      ? {
          context_memberships_url: membershipsUrl(services, courseId, tool.deploymentId),
          service_versions: ["2.0"],
        }
      : undefined;
    return { ...(ags ? { ags } : {}), ...(nrps ? { nrps } : {}) };
  }

  async function idToken(hint: LaunchHint, nonce: string): Promise<string> {
    const issuedAt = Math.floor(now() / 1000);
    const returnUrl = (courseId: string, userId: string, linkId: string | undefined) =>
      at(MOODLE_PATHS.return, {
        course: courseId,
        launch_container: hint.target === "window" ? "4" : "3",
        instanceid: linkId,
        user: userId,
      });
    if (hint.messageType === MESSAGE_TYPE.deepLinking) {
      const { user, course, roles, tool } = resolveDeepLinking({
        course: hint.course,
        user: hint.user,
        tool: hint.tool,
      });
      const session = deepLinkingSessions.open(
        { courseId: course.id, userId: user.id, tool: tool.clientId, typeId: tool.deploymentId },
        (sesskey, data) => ({
          deep_link_return_url: at(MOODLE_PATHS.contentItemReturn, {
            course: course.id,
            id: tool.deploymentId,
            sesskey,
          }),
          accept_types: ["ltiResourceLink"],
          // As Moodle 4.x's lti_build_content_item_selection_request: no accept_lineitem (Moodle
          // reads a returned lineItem all the same), and "frame" among the targets.
          accept_presentation_document_targets: ["frame", "iframe", "window"],
          accept_multiple: true,
          auto_create: false,
          data,
        }),
      );
      const claims = deepLinkingClaims({
        platform: identity,
        clientId: tool.clientId,
        deploymentId: tool.deploymentId,
        user,
        course,
        roles,
        targetLinkUri: tool.deepLinkingUrl ?? tool.targetLinkUri,
        nonce,
        documentTarget: hint.target,
        returnUrl: returnUrl(course.id, user.id, undefined),
        issuedAt,
        oidcLocale,
        custom: { ...tool.custom },
        settings: session.settings,
        ...serviceClaims(tool, course.id, undefined),
      });
      return keys.sign(claims);
    }
    // The hint was signed by us; the people and places it names still exist in the seed.
    const { user, course, link, roles, tool } = resolveLaunch(hint);
    const claims = resourceLinkClaims({
      platform: identity,
      clientId: tool.clientId,
      deploymentId: tool.deploymentId,
      user,
      course,
      link,
      roles,
      targetLinkUri: link.targetLinkUri ?? tool.targetLinkUri,
      nonce,
      documentTarget: hint.target,
      returnUrl: returnUrl(course.id, user.id, link.id),
      issuedAt,
      oidcLocale,
      custom: { ...tool.custom, ...link.custom },
      ...serviceClaims(tool, course.id, link),
    });
    return keys.sign(claims);
  }

  function storageHost(): StorageHost | undefined {
    if (!storageTarget) return undefined;
    const named = storageTarget !== "_parent";
    return {
      script: platformStorageScript({
        frame: named ? storageTarget : undefined,
        storesData: !named,
        origins: tools.origins(),
      }),
      frame: named ? { name: storageTarget, src: at(MOODLE_PATHS.storageFrame) } : undefined,
    };
  }

  const toolNames = (): Record<string, string> => {
    const names: Record<string, string> = { "": tools.first.name };
    for (const t of tools.list()) names[t.clientId] = t.name;
    return names;
  };

  function gradebookView(courseId: string) {
    const columns: GradebookColumn[] = gradebook.lineItems(courseId).map((item) => {
      const cells: Record<string, GradebookColumn["cells"][string]> = {};
      for (const e of gradebook.grades(courseId)) {
        if (e.lineItemId === item.id) cells[e.userId] = e;
      }
      return {
        id: item.id,
        label: item.label,
        scoreMaximum: item.scoreMaximum,
        toolName: tools.find(item.tool)?.name ?? item.tool,
        resourceLinkId: item.resourceLinkId,
        cells,
      };
    });
    const students = directory
      .enrolments(courseId)
      .filter((e) => e.role === "student")
      .map((e) => e.user);
    return { columns, students };
  }

  function addLink(link: NewLink): ResourceLink {
    const course = directory.course(link.course);
    if (!course) throw new LaunchRefusedError(`There is no course "${link.course}".`, 404);
    const tool = link.tool === undefined ? tools.first : tools.get(link.tool);
    const added = directory.addLink({
      courseId: course.id,
      title: link.title,
      description: link.description ?? "",
      ...(link.targetLinkUri ? { targetLinkUri: HttpUrlSchema.parse(link.targetLinkUri) } : {}),
      custom: { ...link.custom },
      tool: tool.clientId,
    });
    if (link.lineItem) {
      gradebook.add({
        courseId: course.id,
        tool: tool.clientId,
        label: link.lineItem.label ?? link.title,
        scoreMaximum: link.lineItem.scoreMaximum,
        resourceId: link.lineItem.resourceId ?? "",
        tag: link.lineItem.tag ?? "",
        resourceLinkId: added.id,
        startDateTime: undefined,
        endDateTime: undefined,
        gradesReleased: undefined,
      });
    }
    return added;
  }

  async function startDynamicRegistration(toolRegistrationUrl: string): Promise<string> {
    const url = new URL(HttpUrlSchema.parse(toolRegistrationUrl));
    const { token } = await registrationTokens.issue();
    url.searchParams.set("openid_configuration", urls.openIdConfiguration);
    url.searchParams.set("registration_token", token);
    return url.toString();
  }

  // A site may live under a path (https://school.test/moodle): routes sit below it.
  const app = new Hono().basePath(new URL(`${baseUrl}/`).pathname);
  const site = { name: identity.name, home: urls.home };
  const page = { site, urls };

  app.onError((err, c) => {
    if (err instanceof LaunchRefusedError) {
      return c.html(<ErrorPage site={site} title="Cannot launch" message={err.message} />, err.status);
    }
    if (err instanceof UnknownToolError) {
      return c.html(<ErrorPage site={site} title="Unknown tool" message={err.message} />, 404);
    }
    console.error("[dev-platform]", err);
    return c.html(<ErrorPage site={site} title="Platform error" message={String(err)} />, 500);
  });
  app.notFound((c) =>
    c.html(<ErrorPage site={site} title="Not found" message={`No page at ${c.req.path}.`} />, 404),
  );

  // Machine-to-machine endpoints: logged, and faults served where asked.
  for (const path of [
    MOODLE_PATHS.wellKnownOpenIdConfiguration,
    MOODLE_PATHS.openIdConfiguration,
    MOODLE_PATHS.registration,
    MOODLE_PATHS.token,
    `${MOODLE_PATHS.services}/*`,
  ]) {
    app.use(path, serviceLog.middleware());
  }
  app.use(MOODLE_PATHS.token, faults.middleware("token"));
  app.use(`${MOODLE_PATHS.services}/*`, faults.middleware("services"));

  app.get(MOODLE_PATHS.home, (c) => {
    const courses = directory.seed.courses.map((course) => ({
      course,
      links: directory.links(course.id),
      participants: directory.participants(course.id),
    }));
    const { deploymentIds, ...rest } = registration();
    const first = tools.first;
    return c.html(
      <HomePage
        {...page}
        admin={admin}
        courses={courses}
        registration={{ ...rest, deploymentIds }}
        tool={{
          clientId: first.clientId,
          deploymentId: first.deploymentId,
          loginInitiationUrl: first.loginInitiationUrl,
          redirectUris: first.redirectUris,
          targetLinkUri: first.targetLinkUri,
          jwksUrl: first.jwksUrl,
        }}
        tools={tools.list().map((t) => ({
          clientId: t.clientId,
          deploymentId: t.deploymentId,
          name: t.name,
          status: t.status,
          registeredBy: t.registeredBy,
          loginInitiationUrl: t.loginInitiationUrl,
          scopes: t.scopes,
          deepLinking: t.deepLinkingUrl !== undefined,
        }))}
        toolNames={toolNames()}
        registrationScript={registrationDialogScript({
          form: "register-tool-form",
          dialog: "registration-dialog",
          frame: "registration-frame",
        })}
      />,
    );
  });

  app.get(MOODLE_PATHS.course, (c) => {
    const query = CourseQuerySchema.safeParse(c.req.query());
    if (!query.success) throw new LaunchRefusedError("A course page needs ?id=<course>.", 400);
    const course = directory.course(query.data.id);
    if (!course) throw new LaunchRefusedError(`There is no course "${query.data.id}".`, 404);
    if (query.data.user === undefined) {
      return c.html(
        <CoursePage
          {...page}
          admin={admin}
          course={course}
          links={directory.links(course.id)}
          participants={directory.participants(course.id)}
          toolNames={toolNames()}
          deepLinkingTools={tools
            .list()
            .filter((t) => t.status === "active" && supportsMessage(t, MESSAGE_TYPE.deepLinking))
            .map((t) => ({ typeId: t.deploymentId, name: t.name }))}
          gradebook={gradebookView(course.id)}
        />,
      );
    }
    const { user, link } = resolveLaunch({ course: course.id, user: query.data.user, link: query.data.link });
    return c.html(
      <CourseLaunchPage
        {...page}
        course={course}
        heading={link.title}
        user={user}
        frameSrc={urls.launch(course.id, user.id, link.id, "iframe")}
        windowSrc={urls.launch(course.id, user.id, link.id, "window")}
        storage={storageHost()}
      />,
    );
  });

  // "Add an activity" with a tool: the deep-linking launch in the course page's frame.
  app.get(MOODLE_PATHS.addActivity, (c) => {
    const course = directory.course(c.req.query("course") ?? "");
    if (!course) throw new LaunchRefusedError("Adding an activity needs ?course=<course>.", 400);
    const userRef = c.req.query("user");
    if (!userRef) throw new LaunchRefusedError("Say who is adding the activity (&user=<user>).", 400);
    const { user, tool } = resolveDeepLinking({
      course: course.id,
      user: userRef,
      tool: c.req.query("typeid"),
    });
    return c.html(
      <CourseLaunchPage
        {...page}
        course={course}
        heading={`Add an activity with ${tool.name}`}
        user={user}
        frameSrc={urls.deepLinking(course.id, user.id, tool.deploymentId, "iframe")}
        windowSrc={urls.deepLinking(course.id, user.id, tool.deploymentId, "window")}
        storage={storageHost()}
      />,
    );
  });

  app.get(MOODLE_PATHS.gradebook, (c) => {
    const course = directory.course(c.req.query("id") ?? "");
    if (!course) throw new LaunchRefusedError("The grader report needs ?id=<course>.", 400);
    return c.html(<GradebookPage {...page} course={course} gradebook={gradebookView(course.id)} />);
  });

  app.get(MOODLE_PATHS.launch, (c) => {
    const query = LaunchQuerySchema.safeParse(c.req.query());
    if (!query.success) throw refusal(query.error);
    const { course, user, link, id, target } = query.data;
    const form = loginInitiation({ course, user, link: link ?? id, target });
    c.header("Cache-Control", "no-store");
    return c.html(
      <AutoSubmitFormPage formName="ltiInitiateLoginForm" action={form.action} fields={form.fields} />,
    );
  });

  app.get(MOODLE_PATHS.contentItem, (c) => {
    const query = DeepLinkingQuerySchema.safeParse(c.req.query());
    if (!query.success) throw refusal(query.error);
    const { course, user, id, target } = query.data;
    const form = loginInitiation({ course, user, tool: id, target, message: "deep-linking" });
    c.header("Cache-Control", "no-store");
    return c.html(
      <AutoSubmitFormPage formName="ltiInitiateLoginForm" action={form.action} fields={form.fields} />,
    );
  });

  app.on(["GET", "POST"], MOODLE_PATHS.auth, async (c) => {
    // Moodle reads these with optional_param: query string or form body alike.
    const params: Record<string, string> = { ...c.req.query() };
    if (c.req.method === "POST") {
      for (const [k, v] of Object.entries(await c.req.parseBody())) if (typeof v === "string") params[k] = v;
    }
    c.header("Cache-Control", "no-store");
    const clients = tools.list().map((t) => ({
      clientId: t.clientId,
      redirectUris: t.redirectUris,
      active: t.status === "active",
    }));
    const decision = decideAuthRequest(params, clients, hints);
    if (decision.kind === "untrusted_redirect") {
      return c.html(
        <ErrorPage site={site} title="Invalid authentication request" message={decision.message} />,
        400,
      );
    }
    const fields: FormField[] = [];
    if (decision.kind === "error") {
      fields.push(
        { name: "error", value: decision.error },
        { name: "error_description", value: decision.description },
      );
    } else {
      fields.push({ name: "id_token", value: await idToken(decision.hint, decision.nonce) });
    }
    if (decision.state !== undefined) fields.push({ name: "state", value: decision.state });
    if (decision.kind === "ok" && storageTarget && decision.hint.target === "iframe") {
      fields.push({ name: "lti_storage_target", value: storageTarget });
    }
    return c.html(
      <AutoSubmitFormPage formName="ltiAuthForm" action={decision.redirectUri} fields={fields} />,
    );
  });

  app.get(MOODLE_PATHS.jwks, (c) => c.json(keys.jwks()));

  // Dynamic Registration: the platform's OpenID configuration, at both addresses.
  const configuration = () =>
    openIdConfiguration({
      issuer: identity.issuer,
      auth: urls.auth,
      token: urls.token,
      jwks: urls.jwks,
      registration: urls.registrationEndpoint,
    });
  app.get(MOODLE_PATHS.wellKnownOpenIdConfiguration, (c) => json(c, 200, configuration()));
  app.get(MOODLE_PATHS.openIdConfiguration, (c) => json(c, 200, configuration()));

  app.post(MOODLE_PATHS.registration, async (c) => {
    const raw = await c.req.text();
    const authorization = c.req.header("authorization");
    const contentType = c.req.header("content-type");
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const finish = (status: 200 | 400 | 401, response: Record<string, unknown>, clientId?: string) => {
      registrationLog.push({ at: now(), authorization, contentType, raw, body, status, response, clientId });
      return json(c, status, response);
    };
    const token = await registrationTokens.check(authorization);
    if (!token.ok) {
      c.header("WWW-Authenticate", 'Bearer error="invalid_token"');
      return finish(401, { error: "invalid_token", error_description: token.why });
    }
    if (mediaTypeOf(contentType) !== "application/json") {
      return finish(400, {
        error: "invalid_client_metadata",
        error_description: "POST the registration as JSON (Content-Type: application/json).",
      });
    }
    if (body === undefined) {
      return finish(400, { error: "invalid_client_metadata", error_description: "The body is not JSON." });
    }
    const outcome = registerTool(body, token.clientId, tools);
    if (!outcome.ok) return finish(400, { error: outcome.error, error_description: outcome.description });
    tools.add(outcome.tool);
    registrationTokens.consume(token.clientId);
    return finish(200, outcome.response, outcome.tool.clientId);
  });

  // The admin's "Add LTI Advantage": the browser goes to the tool's registration page.
  app.get(MOODLE_PATHS.startRegistration, async (c) => {
    const url = c.req.query("url");
    if (!url || !HttpUrlSchema.safeParse(url).success) {
      return c.html(
        <ErrorPage
          site={site}
          title="Cannot register"
          message="Give the tool's registration URL (http or https)."
        />,
        400,
      );
    }
    return c.redirect(await startDynamicRegistration(url), 302);
  });

  app.post(MOODLE_PATHS.toolConfigure, async (c) => {
    const form = await c.req.parseBody();
    if (form.action !== "activate" || typeof form.id !== "string") {
      return c.html(
        <ErrorPage site={site} title="Cannot do that" message="Only action=activate&id=<client_id>." />,
        400,
      );
    }
    tools.activate(form.id);
    return c.redirect(`${urls.home}#tools`, 303);
  });
  app.get(MOODLE_PATHS.toolConfigure, (c) => c.redirect(`${urls.home}#tools`, 302));

  app.post(MOODLE_PATHS.token, async (c) => {
    const result = await tokens.handle(c.req.header("content-type"), await c.req.text());
    c.header("Pragma", "no-cache");
    return json(c, result.status, result.json);
  });
  app.all(MOODLE_PATHS.token, (c) => {
    c.header("Allow", "POST");
    return json(c, 405, {
      error: "invalid_request",
      error_description: "POST a client_credentials token request.",
    });
  });

  mountAgs(app, services, gradebook);
  mountNrps(app, services, membershipsPageSize > 0 ? membershipsPageSize : undefined);

  app.post(MOODLE_PATHS.contentItemReturn, async (c) => {
    const q = c.req.query();
    const form = await c.req.parseBody();
    const jwt = typeof form.JWT === "string" ? form.JWT : "";
    const session = deepLinkingSessions.find(q.course, q.id, q.sesskey);
    const course = q.course ? directory.course(q.course) : undefined;
    const tool = session ? tools.find(session.tool) : undefined;
    const record = (entry: Partial<DeepLinkingResponseRecord>) =>
      deepLinkLog.push({
        at: now(),
        courseId: course?.id,
        tool: tool?.clientId,
        jwt,
        header: undefined,
        claims: undefined,
        ok: false,
        error: undefined,
        links: [],
        lineItems: [],
        ...entry,
      });
    const refuse = (error: string, decoded?: Pick<DeepLinkingResponseRecord, "header" | "claims">) => {
      record({ error, ...decoded });
      return c.html(
        <DeepLinkingReturnPage {...page} course={course} added={[]} error={error} message={undefined} />,
        400,
      );
    };
    if (!session || !tool) {
      return refuse(
        "This deep-linking return was not expected: the course, tool id or sesskey is wrong or has expired.",
      );
    }
    if (!jwt) return refuse("The tool posted no JWT form field.");
    const verified = await keySets.verify(jwt, {
      jwksUrl: tool.jwksUrl,
      issuer: tool.clientId,
      audience: identity.issuer,
      requiredClaims: ["iss", "aud", "exp", "iat", "nonce"],
      now: now(),
    });
    const decoded = { header: verified.header, claims: verified.payload };
    if (!verified.ok)
      return refuse(`The deep-linking response JWT was refused: ${verified.reason}.`, decoded);
    const checked = checkDeepLinkingClaims(verified.payload, session, tool);
    if (!checked.ok) return refuse(`The deep-linking response was refused: ${checked.reason}.`, decoded);
    if (!deepLinkingSessions.useNonce(tool.clientId, String(verified.payload.nonce))) {
      return refuse("The deep-linking response was refused: its nonce was already used.", decoded);
    }
    const placed = placeContentItems(checked.items, session, tool, directory, gradebook);
    deepLinkingSessions.close(session.sesskey);
    record({ ...decoded, ok: true, links: placed.links, lineItems: placed.lineItems });
    const said = verified.payload[CLAIM.deepLinkingErrorMsg] ?? verified.payload[CLAIM.deepLinkingMsg];
    return c.html(
      <DeepLinkingReturnPage
        {...page}
        course={course}
        added={placed.links.map((link) => ({
          link,
          lineItem: placed.lineItems.find((i) => i.resourceLinkId === link.id),
        }))}
        error={undefined}
        message={typeof said === "string" ? said : undefined}
      />,
    );
  });

  app.get(MOODLE_PATHS.storageFrame, (c) => {
    if (!storageTarget || storageTarget === "_parent") {
      return c.html(
        <ErrorPage site={site} title="Not found" message="This platform offers no storage frame." />,
        404,
      );
    }
    const script = platformStorageScript({
      frame: storageTarget,
      storesData: true,
      origins: tools.origins(),
    });
    return c.html(<StorageFramePage script={script} />);
  });

  app.get(MOODLE_PATHS.return, (c) => {
    const courseRef = c.req.query("course");
    return c.html(
      <ReturnPage
        {...page}
        course={courseRef ? directory.course(courseRef) : undefined}
        message={c.req.query("lti_msg")}
        errorMessage={c.req.query("lti_errormsg")}
      />,
    );
  });

  return {
    app,
    baseUrl,
    get tool() {
      return tools.first;
    },
    directory,
    urls,
    registration,
    kid: () => keys.kid,
    jwks: () => keys.jwks(),
    rotateKey: (keyPair) => keys.rotate(keyPair),
    sign: (payload) => keys.sign(payload),
    loginInitiation,
    tools: () => tools.list(),
    activateTool: (ref) => tools.activate(ref),
    startDynamicRegistration,
    registrations: () => [...registrationLog],
    tokenRequests: () => tokens.requests(),
    lineItems: (courseRef) => {
      const courseId = courseRef === undefined ? undefined : (directory.course(courseRef)?.id ?? courseRef);
      return gradebook.lineItems(courseId).map((item) => ({
        ...item,
        url: agsAt.lineItem(item.courseId, item.id, tools.find(item.tool)?.deploymentId ?? ""),
      }));
    },
    scores: () => gradebook.scores(),
    gradebook: (courseRef) =>
      gradebook.grades(courseRef === undefined ? undefined : (directory.course(courseRef)?.id ?? courseRef)),
    deepLinkResponses: () => [...deepLinkLog],
    serviceCalls: () => serviceLog.list(),
    faults,
    addLink,
  };
}
