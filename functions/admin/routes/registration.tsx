import { type Context, Hono } from "hono";
import { AppError, issuesFromZod, ValidationError } from "../../../domain/errors.js";
import * as z from "../../../domain/zod.js";
import { canvasConfiguration } from "../../../lti-tool/canvas-config.js";
import { platformRegistrationInput, registerWithPlatform } from "../../../lti-tool/dynamic-registration.js";
import { undefinedIfInvalid } from "../../../lti-tool/errors.js";
import { checkPlatformKeys } from "../../../lti-tool/platform-jwks.js";
import type { PlatformRegistration } from "../../../lti-tool/ports.js";
import {
  isEndpointUrl,
  type PlatformRegistrationInput,
  RegistrationWithoutDeploymentsSchema,
  registerPlatform,
} from "../../../lti-tool/registration.js";
import {
  findRegistrationLink,
  holdRegistrationLink,
  openRegistrationLink,
  type RegistrationLink,
  RegistrationLinkError,
  registrationLinkRequired,
} from "../../../lti-tool/registration-links.js";
import type { AppDeps } from "../../web/deps.js";
import { type Env, singleFormFields, toolUrls } from "../../web/http.js";
import {
  RegistrationConfirmPage,
  RegistrationDonePage,
  RegistrationSaveAgainPage,
} from "../../web/views/lti-pages.js";

// This page's schemas are built on first use: a launch registers nothing.
const RegistrationParamsSchema = z.lazySchema(() =>
  z.object({
    // The LMS's configuration address: the tool fetches it, so a web address only.
    openid_configuration: z
      .url()
      .check(z.maxLength(2048), z.refine(isEndpointUrl, "must be an https URL to a public address")),
    // An empty token is no token (Dynamic Registration §3.3: the LMS may send none).
    registration_token: z.optional(z.string().check(z.maxLength(8192))),
  }),
);

/**
 * Why the LMS's registration request cannot be used, in words an administrator can act on: the
 * address is missing (the page was not opened from the LMS), or it is not one the tool may fetch.
 */
function registrationParamsError(
  params: Record<string, string>,
  error: Parameters<typeof issuesFromZod>[0],
  missing: string,
): ValidationError {
  const issues = issuesFromZod(error);
  const address = params.openid_configuration;
  if (!address) return new ValidationError(missing, issues);
  if (issues.some((i) => i.path === "openid_configuration")) {
    return new ValidationError(
      `Your LMS sent a configuration address the tool may not use (${address.slice(0, 200)}): it must be an https address on the internet (plain http only to this machine, when the tool runs locally), not a private network address. Check the web address your LMS knows itself by (Moodle's wwwroot, Canvas's domain), then register again.`,
      issues,
    );
  }
  return new ValidationError(
    "Your LMS's registration request is not valid. Start it again from your LMS.",
    issues,
  );
}

const SAVE_AUDIENCE = "hlta-registration-save";
/** How long "Save again" works after the tool failed to save a registration the LMS holds. */
const SAVE_AGAIN_SECONDS = 24 * 3600;
/** What the "Save again" page carries, sealed: checked again, as everything that went through a browser. */
const SavedRegistrationSchema = z.lazySchema(() =>
  z.object({
    link: z.string(),
    input: RegistrationWithoutDeploymentsSchema(),
    productFamily: z.optional(z.string()),
  }),
);

/** Dynamic Registration 1.0 (the page the LMS opens) and the Canvas JSON configuration URL. */
export function registrationRoutes(deps: AppDeps) {
  const app = new Hono<Env>();
  const now = () => deps.now?.() ?? new Date();

  app.get("/lti/canvas.json", (c) => {
    const urls = toolUrls(c, deps);
    c.header("Cache-Control", "public, max-age=300");
    return c.json(canvasConfiguration(urls, deps.config.toolName));
  });

  // Without a registration link (the provider's invitation), no LMS can register the tool.
  const linkRequired = () => {
    throw registrationLinkRequired();
  };
  app.get("/lti/register", linkRequired);
  app.post("/lti/register", linkRequired);

  // The LMS opens this page (in a dialog or new window); the administrator confirms.
  app.get("/lti/register/:link", async (c) => {
    await openRegistrationLink(deps.registrationLinks, c.req.param("link"), now());
    const params = c.req.query();
    const parsed = RegistrationParamsSchema().safeParse(params);
    if (!parsed.success) {
      throw registrationParamsError(
        params,
        parsed.error,
        "Open this page from your LMS's \"register a tool by URL\" screen: it needs the LMS's configuration address (openid_configuration).",
      );
    }
    const fields: Record<string, string> = { openid_configuration: parsed.data.openid_configuration };
    if (parsed.data.registration_token) fields.registration_token = parsed.data.registration_token;
    return c.html(
      <RegistrationConfirmPage
        action={toolUrls(c, deps).registrationLink(c.req.param("link"))}
        fields={fields}
        platformHost={new URL(parsed.data.openid_configuration).host}
      />,
    );
  });

  app.post("/lti/register/:link", async (c) => {
    const started = Date.now();
    const link = await openRegistrationLink(deps.registrationLinks, c.req.param("link"), now());
    const form = await singleFormFields(c);
    const parsed = RegistrationParamsSchema().safeParse(form);
    if (!parsed.success) {
      throw registrationParamsError(
        form,
        parsed.error,
        "The registration request is incomplete. Start it again from your LMS.",
      );
    }
    // Held for this registration alone (a minute at most), so one link registers one LMS even
    // when several registrations race; let go if the LMS refuses or cannot be reached.
    await holdRegistrationLink(deps.registrationLinks, link, now());
    const letGo = () =>
      deps.registrationLinks
        .release(link.id)
        .catch((cause: unknown) =>
          deps.log.warn("lti.registration_link_release_failed", { link: link.note, cause }),
        );
    let result: Awaited<ReturnType<typeof registerWithPlatform>>;
    try {
      result = await registerWithPlatform(
        {
          openidConfiguration: parsed.data.openid_configuration,
          ...(parsed.data.registration_token ? { registrationToken: parsed.data.registration_token } : {}),
        },
        toolUrls(c, deps),
        deps.config.toolName,
        deps.fetch,
      );
    } catch (error) {
      // The LMS holds no registration: the link can be tried again.
      await letGo();
      throw error;
    }
    // The LMS holds a registration now: the link is spent before the tool saves its side, so
    // nothing that fails from here (a lost write, the function's time limit) can free it for a
    // second LMS. Nothing is let go from here either: a write that fails leaves the "Save
    // again" page, which spends the link itself if this could not (asking the LMS again would
    // register a second tool).
    const platformConfig = result.config["https://purl.imsglobal.org/spec/lti-platform-configuration"];
    return spendAndSave(c, {
      link,
      token: c.req.param("link"),
      input: platformRegistrationInput(result.config, result.clientId, result.deploymentId),
      productFamily: platformConfig.product_family_code,
      started,
    });
  });

  // "Save again", after the LMS registered the tool and the tool could not record it: the page
  // that said so carries the LMS's answer, sealed. The link is spent by that answer, or is spent
  // now (when spending it was what failed); spent by another, it is refused.
  app.post("/lti/register/:link/save", async (c) => {
    const started = Date.now();
    const token = c.req.param("link");
    const link = await findRegistrationLink(deps.registrationLinks, token);
    const form = await singleFormFields(c);
    const opened = await deps.sessions.open(SAVE_AUDIENCE, form.saved, now()).catch(undefinedIfInvalid);
    const saved = SavedRegistrationSchema().safeParse(opened);
    if (!saved.success || !link || saved.data.link !== link.id) {
      throw new ValidationError(
        "This page has expired, so the registration cannot be saved from it. Remove the new tool from your LMS's list of tools and ask the tool's provider for a new registration link.",
      );
    }
    const { input, productFamily } = saved.data;
    const r = { link, token, input, ...(productFamily ? { productFamily } : {}), started };
    // Not spent yet (its spending failed too): spent now, by this answer, or refused.
    if (!link.usedAt) return spendAndSave(c, r);
    if (link.usedBy?.issuer !== input.issuer || link.usedBy.clientId !== input.clientId) {
      throw spentByAnother(link, input);
    }
    return saveRegistration(c, r);
  });

  type Registering = {
    link: RegistrationLink;
    token: string;
    input: PlatformRegistrationInput;
    productFamily?: string;
    started: number;
  };

  function spentByAnother(link: RegistrationLink, input: PlatformRegistrationInput) {
    // Never two LMSs through one link.
    return new RegistrationLinkError(
      "This registration link was used by another registration, so this one was stopped. Remove the new tool from your LMS's list of tools and ask the tool's provider for a new link.",
      { context: { issuer: input.issuer, clientId: input.clientId, link: link.note } },
    );
  }

  /** Spends the link for this LMS's answer, then saves it; a failing write leaves "Save again". */
  async function spendAndSave(c: Context<Env>, r: Registering) {
    const by = { issuer: r.input.issuer, clientId: r.input.clientId };
    let spent: boolean;
    try {
      // Kept a day past its use at least, for the "Save again" page.
      const keepUntil = Math.max(
        r.link.expiresAt,
        Math.floor(now().getTime() / 1000) + SAVE_AGAIN_SECONDS + 60,
      );
      spent = await deps.registrationLinks.markUsed(r.link.id, now().toISOString(), by, keepUntil);
    } catch (error) {
      return saveAgain(c, r, error);
    }
    if (!spent) throw spentByAnother(r.link, r.input);
    return saveRegistration(c, r);
  }

  /** The 503 page that keeps the LMS's answer, sealed for a day, behind "Save again". */
  async function saveAgain(c: Context<Env>, r: Registering, error: unknown) {
    deps.log.error("lti.registration_save_failed", {
      issuer: r.input.issuer,
      clientId: r.input.clientId,
      link: r.link.note,
      reference: c.get("reference"),
      error,
    });
    const saved = await deps.sessions.seal(
      SAVE_AUDIENCE,
      { link: r.link.id, input: r.input, ...(r.productFamily ? { productFamily: r.productFamily } : {}) },
      SAVE_AGAIN_SECONDS,
      now(),
    );
    return c.html(
      <RegistrationSaveAgainPage
        action={`${toolUrls(c, deps).registrationLink(r.token)}/save`}
        saved={saved}
        issuer={r.input.issuer}
        clientId={r.input.clientId}
        reference={c.get("reference")}
      />,
      503,
    );
  }

  /**
   * The tool's side of a registration the LMS already holds, and the page that confirms it. A
   * failure of the tool's own storage loses nothing: the page says so and keeps the LMS's
   * answer, sealed for a day, for "Save again" (the link is spent by then, and the LMS would
   * register a second tool if asked again). The tool refusing the registration is not retried.
   */
  async function saveRegistration(c: Context<Env>, r: Registering) {
    const by = { issuer: r.input.issuer, clientId: r.input.clientId };
    let registered: PlatformRegistration;
    try {
      // Adds a registration, never moves another's: an LMS's issuer and client id are not secret.
      registered = await registerPlatform(r.input, deps.registrations, undefined, {
        allowNoDeployments: true,
        keepEndpoints: true,
        ...(r.productFamily ? { productFamily: r.productFamily } : {}),
      });
    } catch (error) {
      if (error instanceof AppError) throw error;
      return saveAgain(c, r, error);
    }
    deps.log.info("lti.dynamic_registration", { ...by, product: r.productFamily, link: r.link.note });
    // Within the admin function's 10 s: the LMS had 8 s at most, the keys get what is left of 9 s
    // (3 s at most); past that the confirmation says they could not be checked in time.
    const keys = await checkPlatformKeys(deps.platformKeys, registered.jwksUrl, {
      waitMs: Math.max(0, Math.min(3_000, r.started + 9_000 - Date.now())),
    });
    if (keys.problem)
      deps.log.warn("lti.registration_keys_unavailable", { ...by, detail: keys.problem, cause: keys.cause });
    const deploymentId = r.input.deploymentIds[0];
    return c.html(
      <RegistrationDonePage
        issuer={registered.issuer}
        clientId={registered.clientId}
        {...(deploymentId ? { deploymentId } : {})}
        pending={r.productFamily === "moodle"}
        {...(keys.problem ? { keysProblem: keys.problem } : {})}
      />,
    );
  }

  return app;
}
