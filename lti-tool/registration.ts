import { issuesFromZod, ValidationError } from "../domain/errors.js";
import * as z from "../domain/zod.js";
import type { PlatformRegistration, RegistrationStore } from "./ports.js";

/** The URL, or undefined when it does not parse (z.url() reports that one, once). */
const parsedUrl = (u: string): URL | undefined => (URL.canParse(u) ? new URL(u) : undefined);

/** https everywhere, except plain http on loopback for local development. */
const EndpointUrl = z.url().check(
  z.refine((u) => {
    const url = parsedUrl(u);
    return (
      !url ||
      url.protocol === "https:" ||
      (url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname))
    );
  }, "must be an https URL (http is allowed only for localhost)"),
);

export const PlatformRegistrationInputSchema = z.object({
  issuer: EndpointUrl.check(
    z.refine((u) => !u.endsWith("/") || parsedUrl(u)?.pathname !== "/", {
      error: "the issuer must match the LMS exactly; Moodle's has no trailing slash",
    }),
  ),
  clientId: z.string().check(z.minLength(1), z.maxLength(255)),
  authUrl: EndpointUrl,
  tokenUrl: EndpointUrl,
  jwksUrl: EndpointUrl,
  authServer: z.optional(z.string().check(z.minLength(1))),
  name: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  deploymentIds: z
    .array(z.string().check(z.minLength(1), z.maxLength(255)))
    .check(z.minLength(1, "register at least one deployment id")),
});
export type PlatformRegistrationInput = z.infer<typeof PlatformRegistrationInputSchema>;

/** Register (or update) a platform and its deployments: the one path for the CLI, the dev runner and dynamic registration. */
export async function registerPlatform(
  input: unknown,
  store: RegistrationStore,
  now = new Date(),
  options: { allowNoDeployments?: boolean; productFamily?: string } = {},
): Promise<PlatformRegistration> {
  const schema = options.allowNoDeployments
    ? z.extend(PlatformRegistrationInputSchema, {
        deploymentIds: z.array(z.string().check(z.minLength(1), z.maxLength(255))),
      })
    : PlatformRegistrationInputSchema;
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError("The platform registration is not valid.", issuesFromZod(parsed.error));
  }
  const { deploymentIds, ...p } = parsed.data;
  const existing = await store.getPlatform(p.issuer, p.clientId);
  const platform: PlatformRegistration = {
    ...p,
    ...(options.productFamily ? { productFamily: options.productFamily } : {}),
    createdAt: existing?.createdAt ?? now.toISOString(),
    ...(existing?.lastLaunchAt ? { lastLaunchAt: existing.lastLaunchAt } : {}),
  };
  await store.savePlatform(platform, deploymentIds);
  return platform;
}
