import * as z from "zod";
import { issuesFromZod, ValidationError } from "../domain/errors.js";
import type { PlatformRegistration, RegistrationStore } from "./ports.js";

/** https everywhere, except plain http on loopback for local development. */
const EndpointUrl = z
  .string()
  .url()
  .refine((u) => {
    const url = new URL(u);
    return (
      url.protocol === "https:" ||
      (url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname))
    );
  }, "must be an https URL (http is allowed only for localhost)");

export const PlatformRegistrationInputSchema = z.object({
  issuer: EndpointUrl.refine((u) => !u.endsWith("/") || new URL(u).pathname !== "/", {
    message: "the issuer must match the LMS exactly; Moodle's has no trailing slash",
  }),
  clientId: z.string().min(1).max(255),
  authUrl: EndpointUrl,
  tokenUrl: EndpointUrl,
  jwksUrl: EndpointUrl,
  authServer: z.string().min(1).optional(),
  name: z.string().min(1).max(200).optional(),
  deploymentIds: z.array(z.string().min(1).max(255)).min(1, "register at least one deployment id"),
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
    ? PlatformRegistrationInputSchema.extend({ deploymentIds: z.array(z.string().min(1).max(255)) })
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
