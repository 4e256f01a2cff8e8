/**
 * Register an LMS (platform) with the tool by hand:
 *   npm run register -- --issuer https://moodle.school.org --client-id abc123 \
 *     --auth-url https://moodle.school.org/mod/lti/auth.php \
 *     --token-url https://moodle.school.org/mod/lti/token.php \
 *     --jwks-url https://moodle.school.org/mod/lti/certs.php --deployment 1
 * Writes to the local tool's DynamoDB (started by `npm start`), or to a deployed table with
 * --table NAME and AWS credentials in the environment.
 */
import "./quiet-sdk.js";
import { parseArgs } from "node:util";
import { DynamoRegistrationStore } from "../adapters/dynamo/registrations.js";
import { allowLoopbackEndpoints } from "../domain/endpoints.js";
import { ValidationError } from "../domain/errors.js";
import { checkPlatformKeys, PlatformJwksCache } from "../lti-tool/platform-jwks.js";
import { ClientIdInUseError, parseRegistrationInput, registerPlatform } from "../lti-tool/registration.js";
import { cliErrorMessage, parsedFlags } from "./cli.js";
import { openTable } from "./runtime-file.js";

const HELP = `Usage: npm run register -- --issuer URL --client-id ID --auth-url URL --token-url URL --jwks-url URL --deployment ID [--deployment ID …] [--name TEXT] [--auth-server AUD] [--shared-client-id] [--table NAME]
  --issuer            the LMS's issuer, exactly (Moodle: the site URL, no trailing slash)
  --client-id         the client id the LMS gave the tool
  --auth-url          the LMS's OIDC authentication URL (Moodle: …/mod/lti/auth.php)
  --token-url         the LMS's access token URL (Moodle: …/mod/lti/token.php)
  --jwks-url          the LMS's public keyset URL (Moodle: …/mod/lti/certs.php)
  --deployment        a deployment id (Moodle: the tool's "Deployment ID"); repeat for more
  --name              a name for the tool administrator's list of LMSs
  --auth-server       the audience of the tool's token requests, when the LMS names one (authorization_server)
  --shared-client-id  accept a client id another LMS already has (two LMSs that issued the same id)
  --table             a deployed stack's table (AWS credentials from the environment); without
                      it, the local tool, which must be running (npm start)`;

async function main(): Promise<number> {
  const parsed = parsedFlags(parse, HELP);
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const input = {
    issuer: values.issuer,
    clientId: values["client-id"],
    authUrl: values["auth-url"],
    tokenUrl: values["token-url"],
    jwksUrl: values["jwks-url"],
    deploymentIds: values.deployment ?? [],
    ...(values.name ? { name: values.name } : {}),
    ...(values["auth-server"] ? { authServer: values["auth-server"] } : {}),
  };
  // Mistakes in the flags are said before anything else, with or without a running tool. The
  // local tool (no --table) takes LMSs on loopback, like the development platform.
  if (!values.table) allowLoopbackEndpoints();
  try {
    parseRegistrationInput(input);
  } catch (error) {
    if (error instanceof ValidationError) return invalid(error);
    throw error;
  }
  const target = openTable(values.table);
  if (!target) return 1;
  const store = new DynamoRegistrationStore(target.doc, target.tableName);
  try {
    const existing =
      values.issuer && values["client-id"]
        ? await store.getPlatform(values.issuer, values["client-id"]).catch(() => undefined)
        : undefined;
    const platform = await registerPlatform(input, store, undefined, {
      allowSharedClientId: values["shared-client-id"] === true,
    });
    const given = [...new Set(values.deployment ?? [])].join(", ");
    console.log(
      existing
        ? `Updated the registration of ${platform.issuer} (client id ${platform.clientId}): deployment(s) ${given} registered; any it had before stay registered.`
        : `Registered ${platform.issuer} (client id ${platform.clientId}) with deployment(s) ${given}.`,
    );
    // The LMS's keys, fetched now from this machine: a wrong --jwks-url is said here, not by
    // the first launch. Not put in the tool's table: what this machine can reach, the tool may
    // not (a school firewall), and keys in the table would hide that for a day.
    const keys = await checkPlatformKeys(new PlatformJwksCache(), platform.jwksUrl, {
      fetchedBy: "This machine",
    });
    if (!("signingKeys" in keys)) {
      console.warn(`Warning: ${keys.problem}`);
      const cause =
        keys.cause instanceof Error && keys.cause.cause instanceof Error ? keys.cause.cause : undefined;
      if (cause) console.warn(`  (${cause.message})`);
    } else {
      console.log(
        `Fetched the LMS's public keys (${keys.signingKeys} signing key(s)) from ${platform.jwksUrl} on this machine; the tool fetches them itself at the first launch.`,
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof ClientIdInUseError) {
      console.error(
        `Not registered: client id ${values["client-id"]} is already registered for ${error.heldBy.join(", ")}. ` +
          "The tool signs its LMS token requests with the client id, so an LMS that is not the one that issued it must not have it. " +
          "If both really are different LMSs that issued the same id, run again with --shared-client-id.",
      );
      return 1;
    }
    if (error instanceof ValidationError) return invalid(error);
    console.error(`Not registered: ${cliErrorMessage(error)}`);
    return 1;
  } finally {
    target.close();
  }
}

function invalid(error: ValidationError): number {
  console.error(`Not registered: ${error.userMessage}`);
  for (const issue of error.issues) console.error(`  --${flagOf(issue.path)}: ${issue.message}`);
  console.error(HELP);
  return 2;
}

function parse() {
  return parseArgs({
    options: {
      issuer: { type: "string" },
      "client-id": { type: "string" },
      "shared-client-id": { type: "boolean" },
      "auth-url": { type: "string" },
      "token-url": { type: "string" },
      "jwks-url": { type: "string" },
      "auth-server": { type: "string" },
      deployment: { type: "string", multiple: true },
      name: { type: "string" },
      table: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
}

function flagOf(path: string): string {
  const map: Record<string, string> = {
    clientId: "client-id",
    authUrl: "auth-url",
    tokenUrl: "token-url",
    jwksUrl: "jwks-url",
    authServer: "auth-server",
    deploymentIds: "deployment",
  };
  const head = path.split(".")[0] ?? path;
  return map[head] ?? head;
}

process.exitCode = await main();
