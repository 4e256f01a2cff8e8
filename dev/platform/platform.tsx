/**
 * The development LTI 1.3 platform: a local stand-in for Moodle 4.x that launches a tool
 * through the tool's public endpoints only (login initiation, redirect URI, later its JWKS),
 * exactly as an LMS would. Never deployed. See README.md beside this file.
 */
import { randomInt } from "node:crypto";
import { Hono } from "hono";
import type { JSONWebKeySet, JWTPayload } from "jose";
import { z } from "zod";
import { decideAuthRequest } from "./auth.js";
import { MESSAGE_TYPE } from "./claims.js";
import { type PlatformIdentity, resourceLinkClaims } from "./id-token.js";
import { type PlatformKeyPair, PlatformKeyring } from "./keys.js";
import { type DocumentTarget, DocumentTargetSchema, MessageHintCodec } from "./message-hint.js";
import {
  AutoSubmitFormPage,
  CourseLaunchPage,
  CoursePage,
  ErrorPage,
  type FormField,
  HomePage,
  type LaunchUrls,
  ReturnPage,
} from "./pages.js";
import { DEFAULT_SEED, PlatformDirectory, type PlatformSeed } from "./seed.js";

/** Moodle's paths, relative to the site URL. */
export const MOODLE_PATHS = {
  home: "/",
  course: "/course/view.php",
  launch: "/mod/lti/launch.php",
  auth: "/mod/lti/auth.php",
  token: "/mod/lti/token.php",
  jwks: "/mod/lti/certs.php",
  return: "/mod/lti/return.php",
} as const;

const HttpUrlSchema = z.url({ protocol: /^https?$/ });

const ToolOptionsSchema = z.object({
  loginInitiationUrl: HttpUrlSchema,
  targetLinkUri: HttpUrlSchema,
  /** Defaults to `[targetLinkUri]`. */
  redirectUris: z.array(HttpUrlSchema).min(1).optional(),
  /** The tool's public keys; unused until the platform's services (LTI Advantage issue). */
  jwksUrl: HttpUrlSchema.optional(),
  name: z.string().min(1).optional(),
});
export type DevPlatformToolOptions = z.input<typeof ToolOptionsSchema>;

export interface DevPlatformOptions {
  /** The platform's public URL, e.g. `http://localhost:8790`; the issuer is this without a trailing slash. */
  readonly baseUrl: string;
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

/** The tool as this platform has it registered. */
export interface RegisteredTool {
  readonly clientId: string;
  readonly deploymentId: string;
  readonly name: string;
  readonly loginInitiationUrl: string;
  readonly targetLinkUri: string;
  readonly redirectUris: readonly string[];
  readonly jwksUrl: string | undefined;
}

/** A launch to start: references are ids or names (username, course short name). */
export interface LaunchRequest {
  readonly course?: string;
  readonly user: string;
  /** Resource link id; the course's first link by default. */
  readonly link?: string;
  readonly target?: DocumentTarget;
}

/** The third-party login initiation (LTI Core §4.1), as Moodle POSTs it. */
export interface LoginInitiation {
  readonly action: string;
  readonly fields: readonly FormField[];
}

export interface DevPlatform {
  readonly app: Hono;
  readonly baseUrl: string;
  readonly tool: RegisteredTool;
  readonly directory: PlatformDirectory;
  readonly urls: PlatformUrls;
  registration(): PlatformRegistration;
  /** The current signing key's id. */
  kid(): string;
  jwks(): JSONWebKeySet;
  /** New signing key with a new `kid`; the old key leaves the JWKS. Returns the new kid. */
  rotateKey(keyPair?: PlatformKeyPair): Promise<string>;
  /** Signs any payload with the current key (header `kid`, RS256). */
  sign(payload: JWTPayload): Promise<string>;
  /** The login initiation form for a launch; throws `LaunchRefusedError`. */
  loginInitiation(request: LaunchRequest): LoginInitiation;
}

export interface PlatformUrls extends LaunchUrls {
  readonly home: string;
  readonly auth: string;
  readonly token: string;
  readonly jwks: string;
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

const CourseQuerySchema = z.object({
  id: z.string().min(1),
  user: z.string().min(1).optional(),
  link: z.string().min(1).optional(),
});

/** Moodle's `random_string(15)` alphabet. */
function generateClientId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from({ length: 15 }, () => alphabet[randomInt(alphabet.length)]).join("");
}

export async function createDevPlatform(options: DevPlatformOptions): Promise<DevPlatform> {
  const baseUrl = HttpUrlSchema.parse(options.baseUrl).replace(/\/+$/, "");
  const toolOptions = ToolOptionsSchema.parse(options.tool);
  const now = options.now ?? Date.now;
  const keys = await PlatformKeyring.create(options.keyPair);
  const hints = new MessageHintCodec({ now });
  const directory = new PlatformDirectory(options.seed ?? DEFAULT_SEED);
  const oidcLocale = options.oidcLocale ?? true;

  const identity: PlatformIdentity = {
    issuer: baseUrl,
    name: options.name ?? "HLTA Development Moodle",
    guid: new URL(baseUrl).hostname,
    version: MOODLE_45_VERSION,
  };
  const tool: RegisteredTool = {
    clientId: options.clientId ?? generateClientId(),
    deploymentId: options.deploymentId ?? "1",
    name: toolOptions.name ?? "HLTA preparation",
    loginInitiationUrl: toolOptions.loginInitiationUrl,
    targetLinkUri: toolOptions.targetLinkUri,
    redirectUris: toolOptions.redirectUris ?? [toolOptions.targetLinkUri],
    jwksUrl: toolOptions.jwksUrl,
  };

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
    coursePage: (courseId, userId, linkId) =>
      at(MOODLE_PATHS.course, { id: courseId, user: userId, link: linkId }),
    launch: (courseId, userId, linkId, target) =>
      at(MOODLE_PATHS.launch, { course: courseId, link: linkId, user: userId, target }),
  };

  const registration = (): PlatformRegistration => ({
    issuer: identity.issuer,
    clientId: tool.clientId,
    authUrl: urls.auth,
    tokenUrl: urls.token,
    jwksUrl: urls.jwks,
    deploymentIds: [tool.deploymentId],
    name: identity.name,
  });

  function resolveLaunch(request: LaunchRequest) {
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
    return { user, course, link, roles };
  }

  function loginInitiation(request: LaunchRequest): LoginInitiation {
    const { user, course, link } = resolveLaunch(request);
    const hint = hints.issue({
      user: user.id,
      course: course.id,
      link: link.id,
      messageType: MESSAGE_TYPE.resourceLink,
      target: request.target ?? "iframe",
    });
    // Moodle's lti_initiate_login: these six fields, in this order.
    return {
      action: tool.loginInitiationUrl,
      fields: [
        { name: "iss", value: identity.issuer },
        { name: "target_link_uri", value: link.targetLinkUri ?? tool.targetLinkUri },
        { name: "login_hint", value: user.id },
        { name: "lti_message_hint", value: hint },
        { name: "client_id", value: tool.clientId },
        { name: "lti_deployment_id", value: tool.deploymentId },
      ],
    };
  }

  // A site may live under a path (https://school.test/moodle): routes sit below it.
  const app = new Hono().basePath(new URL(`${baseUrl}/`).pathname);
  const site = { name: identity.name, home: urls.home };
  const page = { site, urls };

  app.onError((err, c) => {
    if (err instanceof LaunchRefusedError) {
      return c.html(<ErrorPage site={site} title="Cannot launch" message={err.message} />, err.status);
    }
    console.error("[dev-platform]", err);
    return c.html(<ErrorPage site={site} title="Platform error" message={String(err)} />, 500);
  });
  app.notFound((c) =>
    c.html(<ErrorPage site={site} title="Not found" message={`No page at ${c.req.path}.`} />, 404),
  );

  app.get(MOODLE_PATHS.home, (c) => {
    const courses = directory.seed.courses.map((course) => ({
      course,
      links: directory.seed.links.filter((l) => l.courseId === course.id),
      participants: directory.participants(course.id),
    }));
    const { deploymentIds, ...rest } = registration();
    return c.html(
      <HomePage
        {...page}
        courses={courses}
        registration={{ ...rest, deploymentIds }}
        tool={{
          clientId: tool.clientId,
          deploymentId: tool.deploymentId,
          loginInitiationUrl: tool.loginInitiationUrl,
          redirectUris: tool.redirectUris,
          targetLinkUri: tool.targetLinkUri,
          jwksUrl: tool.jwksUrl,
        }}
      />,
    );
  });

  app.get(MOODLE_PATHS.course, (c) => {
    const query = CourseQuerySchema.safeParse(c.req.query());
    if (!query.success) throw new LaunchRefusedError("A course page needs ?id=<course>.", 400);
    const course = directory.course(query.data.id);
    if (!course) throw new LaunchRefusedError(`There is no course "${query.data.id}".`, 404);
    if (query.data.user === undefined) {
      const links = directory.seed.links.filter((l) => l.courseId === course.id);
      return c.html(
        <CoursePage
          {...page}
          course={course}
          links={links}
          participants={directory.participants(course.id)}
        />,
      );
    }
    const { user, link } = resolveLaunch({ course: course.id, user: query.data.user, link: query.data.link });
    return c.html(<CourseLaunchPage {...page} course={course} link={link} user={user} />);
  });

  app.get(MOODLE_PATHS.launch, (c) => {
    const query = LaunchQuerySchema.safeParse(c.req.query());
    if (!query.success) {
      throw new LaunchRefusedError(
        query.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
        400,
      );
    }
    const { course, user, link, id, target } = query.data;
    const form = loginInitiation({ course, user, link: link ?? id, target });
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
    const decision = decideAuthRequest(params, tool, hints);
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
    return c.html(
      <AutoSubmitFormPage formName="ltiAuthForm" action={decision.redirectUri} fields={fields} />,
    );
  });

  async function idToken(
    hint: { user: string; course: string; link: string; target: DocumentTarget },
    nonce: string,
  ) {
    // The hint was signed by us; the people and places it names still exist in the seed.
    const { user, course, link, roles } = resolveLaunch(hint);
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
      returnUrl: at(MOODLE_PATHS.return, {
        course: course.id,
        launch_container: hint.target === "window" ? "4" : "3",
        instanceid: link.id,
        user: user.id,
      }),
      issuedAt: Math.floor(now() / 1000),
      oidcLocale,
    });
    return keys.sign(claims);
  }

  app.get(MOODLE_PATHS.jwks, (c) => c.json(keys.jwks()));

  // The token endpoint arrives with the platform's services (LTI Advantage issue).
  app.all(MOODLE_PATHS.token, (c) =>
    c.json(
      {
        error: "not_implemented",
        error_description:
          "The development platform's token endpoint arrives with the LTI Advantage services.",
      },
      501,
    ),
  );

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
    tool,
    directory,
    urls,
    registration,
    kid: () => keys.kid,
    jwks: () => keys.jwks(),
    rotateKey: (keyPair) => keys.rotate(keyPair),
    sign: (payload) => keys.sign(payload),
    loginInitiation,
  };
}
