import { isEndpointUrl } from "../domain/endpoints.js";
import { AppError, issuesFromZod, ValidationError } from "../domain/errors.js";
import * as z from "../domain/zod.js";
import { KeyIdSchema, READABLE_TEXT, READABLE_TEXT_ISSUE } from "./claims.js";
import type { PlatformRegistration, RegistrationStore } from "./ports.js";

/** The URL, or undefined when it does not parse (z.url() reports that one, once). */
const parsedUrl = (u: string): URL | undefined => (URL.canParse(u) ? new URL(u) : undefined);

export { isEndpointUrl };

// The schemas below are built on first use: only registering (and the xAPI admin's route
// scopes) reads them, never a launch.

/**
 * A client or deployment id as an administrator (or an LMS's registration answer) gives it: a
 * claim's id, and never blank or with spaces around it, which no LMS sends in a launch, so
 * such a registration could never be launched.
 */
export const RegisteredId = z.lazySchema(() =>
  KeyIdSchema.check(
    z.refine(
      (v) => v.trim() === v,
      "must not begin or end with a space (copy the id exactly as the LMS shows it)",
    ),
  ),
);

const EndpointUrl = z.lazySchema(() =>
  z.url().check(
    // An unparsable URL is z.url()'s issue already; this one names the scheme.
    z.refine(
      (u) => !parsedUrl(u) || isEndpointUrl(u),
      "must be an https URL to a public address (http only to localhost, and only when the tool runs locally)",
    ),
  ),
);

export const PlatformRegistrationInputSchema = z.lazySchema(() =>
  z.object({
    issuer: EndpointUrl().check(
      // Part of the registration's partition key (`PLATFORM#<issuer>`, at most 2,048 bytes).
      z.maxLength(1024),
      z.maxUtf8Bytes(1024),
      // Hashed into every tenant's keys, as the ids are (KeyIdSchema).
      z.regex(READABLE_TEXT, READABLE_TEXT_ISSUE),
      z.refine((u) => !u.endsWith("/") || parsedUrl(u)?.pathname !== "/", {
        error: "the issuer must match the LMS exactly; Moodle's has no trailing slash",
      }),
      // OpenID Connect Discovery §3: an issuer has no query and no fragment. One with either
      // never matches a token's iss, and '#' is the tool's key separator.
      z.refine((u) => !/[?#]/.test(u), "the issuer is the LMS's address without any ? or # part"),
    ),
    clientId: RegisteredId(),
    authUrl: EndpointUrl(),
    tokenUrl: EndpointUrl(),
    jwksUrl: EndpointUrl(),
    authServer: z.optional(z.string().check(z.minLength(1))),
    name: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
    deploymentIds: z.array(RegisteredId()).check(z.minLength(1, "register at least one deployment id")),
  }),
);
export type PlatformRegistrationInput = z.infer<ReturnType<typeof PlatformRegistrationInputSchema>>;

/** Without deployments: Canvas assigns them at install, after dynamic registration. */
export const RegistrationWithoutDeploymentsSchema = z.lazySchema(() =>
  z.extend(PlatformRegistrationInputSchema(), {
    deploymentIds: z.array(RegisteredId()),
  }),
);

/** A registration as the tool would save it, or a ValidationError naming every problem. */
export function parseRegistrationInput(
  input: unknown,
  options: { allowNoDeployments?: boolean } = {},
): PlatformRegistrationInput {
  const schema = options.allowNoDeployments
    ? RegistrationWithoutDeploymentsSchema()
    : PlatformRegistrationInputSchema();
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError("The platform registration is not valid.", issuesFromZod(parsed.error));
  }
  return parsed.data;
}

/**
 * A client id that another LMS (another issuer) already has with this tool. The tool signs its
 * service token requests with `iss` = `sub` = the client id: were a second registration of that
 * client id accepted from anyone, the tool would send assertions an LMS accepts as the first
 * one's (Moodle checks little beyond `sub` and the signature) to the second's token endpoint.
 */
export class ClientIdInUseError extends AppError {
  readonly status = 409;
  readonly code = "lti.client_id_in_use";
  readonly title = "The tool could not be registered";
  constructor(
    userMessage: string,
    options: { cause?: unknown; context?: Record<string, unknown> },
    /** The issuers that have the client id already (for the administrator's CLI, never an LMS's page). */
    readonly heldBy: readonly string[],
  ) {
    super(userMessage, options);
  }
}

export function clientIdInUse(
  clientId: string,
  issuer: string,
  heldBy: readonly string[],
): ClientIdInUseError {
  return new ClientIdInUseError(
    `Your LMS gave the tool client id ${clientId}, which another LMS already uses with this tool, so the registration was stopped for safety. Remove the new tool from your LMS's list of tools and ask the tool's provider.`,
    { context: { issuer, clientId, registeredFor: heldBy } },
    heldBy,
  );
}

/**
 * A registration of this issuer and client id exists with other addresses, and this one (dynamic
 * registration) may not move it: whoever serves a configuration naming an LMS's issuer, and
 * answers with its client id, would otherwise point its launches at their own keys.
 */
export class PlatformAlreadyRegisteredError extends AppError {
  readonly status = 409;
  readonly code = "lti.platform_already_registered";
  readonly title = "The tool could not be registered";
}

export function platformAlreadyRegistered(issuer: string, clientId: string): PlatformAlreadyRegisteredError {
  return new PlatformAlreadyRegisteredError(
    `The LMS at ${issuer} is already registered with this tool under client id ${clientId}, with other addresses, so this registration did not change it. Remove the new tool from your LMS's list of tools and ask the tool's provider.`,
    { context: { issuer, clientId } },
  );
}

type Endpoints = Pick<PlatformRegistration, "authUrl" | "tokenUrl" | "jwksUrl" | "authServer">;

/** Whether two registrations send launches and token requests to the same places, for the same audience. */
export function sameEndpoints(a: Endpoints, b: Endpoints): boolean {
  return (
    a.authUrl === b.authUrl &&
    a.tokenUrl === b.tokenUrl &&
    a.jwksUrl === b.jwksUrl &&
    a.authServer === b.authServer
  );
}

/** Register (or update) a platform and its deployments: the one path for the CLI, the dev runner and dynamic registration. */
export async function registerPlatform(
  input: unknown,
  store: RegistrationStore,
  now = new Date(),
  options: {
    allowNoDeployments?: boolean;
    productFamily?: string;
    /**
     * Accept a client id another issuer already has. Off everywhere unless an administrator says
     * so (`npm run register -- --shared-client-id`): two self-hosted Canvases may both start at
     * 10000000000001, but the tool cannot tell that from one LMS taking another's id.
     */
    allowSharedClientId?: boolean;
    /** Refuse to move an existing registration to other addresses (dynamic registration). */
    keepEndpoints?: boolean;
  } = {},
): Promise<PlatformRegistration> {
  const { deploymentIds, ...p } = parseRegistrationInput(input, options);
  if (!options.allowSharedClientId) {
    // Registrations saved before client ids were taken in the save itself are found here.
    const others = (await store.platformsWithClientId(p.clientId)).filter((o) => o.issuer !== p.issuer);
    if (others.length > 0) {
      throw clientIdInUse(
        p.clientId,
        p.issuer,
        others.map((o) => o.issuer),
      );
    }
  }
  const existing = await store.getPlatform(p.issuer, p.clientId);
  const platform: PlatformRegistration = {
    // What the new input does not say (a name, an authorization server) stays as it was.
    ...(existing?.name ? { name: existing.name } : {}),
    ...(existing?.authServer ? { authServer: existing.authServer } : {}),
    ...(existing?.productFamily ? { productFamily: existing.productFamily } : {}),
    ...p,
    ...(options.productFamily ? { productFamily: options.productFamily } : {}),
    createdAt: existing?.createdAt ?? now.toISOString(),
    ...(existing?.lastLaunchAt ? { lastLaunchAt: existing.lastLaunchAt } : {}),
  };
  if (options.keepEndpoints && existing && !sameEndpoints(existing, platform)) {
    throw platformAlreadyRegistered(p.issuer, p.clientId);
  }
  // The save takes the client id for this issuer atomically: two registrations racing with one
  // client id cannot both pass the check above.
  await store.savePlatform(platform, deploymentIds, {
    exclusiveClientId: !options.allowSharedClientId,
    ...(options.keepEndpoints ? { keepEndpoints: true } : {}),
  });
  return platform;
}
