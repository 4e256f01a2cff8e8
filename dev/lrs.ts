/**
 * Point a tenant's xAPI statements at a Learning Record Store:
 *   LRS_PASSWORD=… npm run lrs -- add --issuer URL --client-id ID [--deployment ID] \
 *       --endpoint https://lrs.example.org/xapi/ --username KEY [--name TEXT] [--table NAME]
 *   npm run lrs -- list [--table NAME]
 *   LRS_PASSWORD=… npm run lrs -- credentials --id ROUTE_ID --username KEY [--endpoint URL] [--table NAME]
 *   npm run lrs -- remove --id ROUTE_ID [--force] [--table NAME]
 *   npm run lrs -- identifier --issuer URL --client-id ID [--deployment ID] --type account|mbox|mbox_sha1sum
 * The password comes from LRS_PASSWORD (never the command line, which other users can see) and
 * is sealed (AES-256-GCM) before it is stored. Without --table: the local tool (`npm start`),
 * sealed with .data/keys/xapi-credential.key; with --table: a deployed stack, sealed with its
 * key, derived as its forwarder derives it (SHA-256 of the XapiCredentialKey secret's value)
 * from the secret named by XAPI_CREDENTIAL_SECRET_ARN (the stack's XapiCredentialSecretArn
 * output), or given whole in XAPI_CREDENTIAL_KEY (base64url, 32 bytes).
 */
import "./quiet-sdk.js";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DynamoLrsRouteStore } from "../adapters/dynamo/lrs-routes.js";
import { DynamoOutboxStore } from "../adapters/dynamo/outbox.js";
import { DynamoRegistrationStore } from "../adapters/dynamo/registrations.js";
import { ValidationError } from "../domain/errors.js";
import { credentialKeyFromSecret } from "../functions/forwarder/deps.js";
import { createAesGcmCipher } from "../statements/credential-cipher.js";
import { loadOrCreateCredentialKey } from "../statements/credential-key-file.js";
import { removeRouteWhenQuiet } from "../statements/route-removal.js";
import { cliErrorMessage, commandOf, parsedFlags } from "./cli.js";
import { DATA_DIR, deployedRegion, openTable } from "./runtime-file.js";

const USAGE = `Usage:
  LRS_PASSWORD=… npm run lrs -- add --issuer URL --client-id ID [--deployment ID] --endpoint URL --username KEY [--name TEXT] [--table NAME]
  npm run lrs -- list [--table NAME]
  LRS_PASSWORD=… npm run lrs -- credentials --id ROUTE_ID --username KEY [--endpoint URL] [--table NAME]
  npm run lrs -- remove --id ROUTE_ID [--force] [--table NAME]
  npm run lrs -- identifier --issuer URL --client-id ID [--deployment ID] --type account|mbox|mbox_sha1sum [--table NAME]

  credentials  new key and secret (and endpoint) for a route, keeping its id: its waiting
               statements go on; parked ones are replayed from the admin page
  remove       refused while statements wait or are parked on the route (they would be left
               where no page shows them): --force to remove it all the same. Otherwise the route
               is turned off first and removed about a minute later, once running instances of
               the tool have stopped sending to it
  --table      a deployed stack's table; set XAPI_CREDENTIAL_SECRET_ARN to its
               XapiCredentialSecretArn output (the key sealing LRS credentials is read from
               that secret as the forwarder reads it)`;

async function main(): Promise<number> {
  const parsed = parsedFlags(parse, USAGE);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const command = commandOf(positionals, ["add", "credentials", "list", "remove", "identifier"], USAGE);
  if (typeof command === "number") return command;
  const target = openTable(values.table);
  if (!target) return 1;
  let key: { kid: string; key: Uint8Array };
  if (values.table) {
    const bytes = await deployedCredentialKey(process.env).catch((error: unknown) => {
      console.error(`Not done: the credential key secret could not be read: ${cliErrorMessage(error)}`);
      return undefined;
    });
    if (!bytes) {
      target.close();
      return 1;
    }
    key = { kid: process.env.XAPI_CREDENTIAL_KEY_ID ?? "env-1", key: bytes };
  } else {
    key = loadOrCreateCredentialKey(join(DATA_DIR, "keys", "xapi-credential.key"));
  }
  const store = new DynamoLrsRouteStore(target.doc, target.tableName, createAesGcmCipher({ current: key }));
  const scope = () => {
    if (!values.issuer || !values["client-id"]) throw new FlagError("--issuer and --client-id are required");
    return {
      issuer: values.issuer,
      clientId: values["client-id"],
      // Given, even empty, it is checked: an unset shell variable must not widen a route to
      // every deployment of the platform (other schools' statements to this LRS).
      ...(values.deployment !== undefined ? { deploymentId: values.deployment } : {}),
    };
  };
  // A route or setting for an LMS the tool does not know is kept (it may be registered later),
  // but said: a mistyped issuer or client id would otherwise be silently never used.
  const registrations = new DynamoRegistrationStore(target.doc, target.tableName);
  const warnIfUnregistered = async (s: { issuer: string; clientId: string; deploymentId?: string }) => {
    // What was asked is done by now: a failure to look is not a failure of the command.
    const known = async () => {
      const platform = await registrations.getPlatform(s.issuer, s.clientId);
      return platform && s.deploymentId
        ? await registrations.getDeployment(s.issuer, s.clientId, s.deploymentId)
        : platform;
    };
    if (await known().catch(() => true)) return;
    console.warn(
      `Note: no LMS is registered with issuer ${s.issuer}, client id ${s.clientId}${s.deploymentId ? `, deployment ${s.deploymentId}` : ""} yet. ` +
        "This is used once one is; if you meant a registered LMS, check them (the admin page's Platforms list).",
    );
  };
  // The secret comes from the environment, never the command line (other users can see that).
  const lrsPassword = () => {
    const password = process.env.LRS_PASSWORD;
    if (!password)
      throw new Error("Set LRS_PASSWORD to the LRS secret (it is not read from the command line).");
    return password;
  };
  const noSuchRoute = (id: string) => {
    console.error(`There is no route with id ${id}; \`npm run lrs -- list\` shows them.`);
    return 1;
  };
  try {
    if (command === "add") {
      const password = lrsPassword();
      if (!values.endpoint || !values.username) throw new FlagError("--endpoint and --username are required");
      const route = await store.saveRoute({
        scope: scope(),
        name:
          values.name ?? (URL.canParse(values.endpoint) ? new URL(values.endpoint).host : values.endpoint),
        endpoint: values.endpoint,
        username: values.username,
        password,
      });
      console.log(
        `Added route ${route.routeId}: statements of ${scopeWords(route.scope)} now go to ${route.endpoint}.`,
      );
      await warnIfUnregistered(route.scope);
      return 0;
    }
    if (command === "list") {
      for (const r of await store.listRoutes()) {
        console.log(
          `${r.routeId}  ${r.enabled ? "enabled " : "disabled"}  ${r.scope.issuer} ${r.scope.clientId}${r.scope.deploymentId ? ` #${r.scope.deploymentId}` : ""} → ${r.endpoint}  (${r.name})`,
        );
      }
      return 0;
    }
    if (command === "credentials") {
      if (!values.id || !values.username) throw new FlagError("--id and --username are required");
      const password = lrsPassword();
      const route = await store.getRoute(values.id);
      if (!route) return noSuchRoute(values.id);
      await store.saveRoute({
        routeId: route.routeId,
        scope: route.scope,
        name: route.name,
        endpoint: values.endpoint ?? route.endpoint,
        username: values.username,
        password,
        enabled: route.enabled,
      });
      console.log(
        `Route ${route.routeId} has its new credentials${values.endpoint ? " and endpoint" : ""}: its waiting statements go on.`,
      );
      return 0;
    }
    if (command === "remove") {
      if (!values.id) throw new FlagError("--id is required");
      const routeId = values.id;
      if (values.force) {
        if (!(await store.removeRoute(routeId))) return noSuchRoute(routeId);
        console.log(`Removed route ${routeId}, with whatever statements were still on it.`);
        return 0;
      }
      // Ctrl+C (or a closed terminal, or a kill) during the wait turns the route back on as it
      // was before stopping.
      const stop = new AbortController();
      const onSigint = () =>
        stop.abort(new Error("Stopped: the route is on again, as it was; nothing removed."));
      const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
      for (const signal of signals) process.once(signal, onSigint);
      let shown = -1;
      const removal = await removeRouteWhenQuiet(routeId, {
        routes: store,
        outbox: new DynamoOutboxStore(target.doc, target.tableName),
        signal: stop.signal,
        onWait: (leftMs) => {
          const seconds = Math.ceil(leftMs / 1000);
          if (shown === -1) {
            console.log(
              `Route ${routeId} is turned off. Waiting ${seconds} s for running instances of the tool to stop sending statements to it (Ctrl+C to stop and turn it back on)…`,
            );
          } else if (seconds % 10 === 0 && seconds !== shown) {
            console.log(`  ${seconds} s left`);
          }
          shown = seconds;
        },
      }).finally(() => {
        for (const signal of signals) process.off(signal, onSigint);
      });
      if (removal.kind === "not-found") return noSuchRoute(routeId);
      if (removal.kind === "backlog") {
        const { backlog } = removal;
        console.error(
          (removal.arrivedWhileRemoving
            ? `Statements arrived for route ${routeId} while it was being removed (${backlog.pending}${backlog.capped ? "+" : ""} waiting): it is on again, as it was, so they go. `
            : `Route ${routeId} has ${backlog.pending}${backlog.capped ? "+" : ""} statement(s) waiting and ${backlog.parked} parked: `) +
            "removed, they would be left where no page shows them. To change its LRS credentials or endpoint, use `npm run lrs -- credentials`; " +
            "to remove it all the same, add --force.",
        );
        return 1;
      }
      console.log(`Removed route ${routeId}.`);
      return 0;
    }
    if (command === "identifier") {
      const type = values.type;
      if (type !== "account" && type !== "mbox" && type !== "mbox_sha1sum") {
        throw new FlagError("--type must be account, mbox or mbox_sha1sum");
      }
      const tenant = scope();
      await store.saveTenantSettings(tenant, { actorIdentifier: type });
      console.log(`Actors of ${scopeWords(tenant)} are now identified by ${type}.`);
      await warnIfUnregistered(tenant);
      return 0;
    }
    throw new Error(`Unknown command "${command}".`);
  } catch (error) {
    console.error(`Not done: ${cliErrorMessage(error)}`);
    // Name every problem by its flag, as `npm run register` does; a mistake in the flags exits 2.
    if (error instanceof ValidationError) {
      for (const issue of error.issues) console.error(`  ${flagOf(issue.path)}: ${issue.message}`);
    }
    return error instanceof ValidationError || error instanceof FlagError ? 2 : 1;
  } finally {
    target.close();
  }
}

/** Whom a route or setting covers, in words: one deployment, or every one without its own. */
function scopeWords(s: { issuer: string; clientId: string; deploymentId?: string }): string {
  return s.deploymentId !== undefined
    ? `${s.issuer} (client id ${s.clientId}, deployment ${s.deploymentId})`
    : `${s.issuer} (client id ${s.clientId}, every deployment but those given their own)`;
}

/** A flag missing or wrong: said, and exit code 2 like parseArgs's own mistakes. */
class FlagError extends Error {}

/** The flag (or the environment variable) that gave the value a route's or a tenant's field. */
function flagOf(path: string): string {
  const flags: Record<string, string> = {
    "scope.issuer": "--issuer",
    "scope.clientId": "--client-id",
    "scope.deploymentId": "--deployment",
    endpoint: "--endpoint",
    username: "--username",
    password: "LRS_PASSWORD",
    name: "--name",
  };
  return flags[path] ?? path;
}

/**
 * A deployed stack's credential key, as its forwarder has it: SHA-256 of the XapiCredentialKey
 * secret's value, read by its ARN (XAPI_CREDENTIAL_SECRET_ARN), or the key itself in
 * XAPI_CREDENTIAL_KEY. Never the secret's value taken as the key: it too is 43 base64url
 * characters, would pass as 32 bytes, and would seal credentials the forwarder cannot open.
 */
async function deployedCredentialKey(env: NodeJS.ProcessEnv): Promise<Uint8Array | undefined> {
  const arn = env.XAPI_CREDENTIAL_SECRET_ARN;
  if (arn) return credentialKeyFromSecret(arn, deployedRegion(env));
  const bytes = Buffer.from(env.XAPI_CREDENTIAL_KEY ?? "", "base64url");
  if (bytes.length === 32) return bytes;
  console.error(
    "With --table, set XAPI_CREDENTIAL_SECRET_ARN to the stack's XapiCredentialSecretArn output: the key is read from that secret as the forwarder reads it. (Or XAPI_CREDENTIAL_KEY to the key itself: base64url of the SHA-256 of the secret's value, not the value.)",
  );
  return undefined;
}

function parse() {
  return parseArgs({
    options: {
      issuer: { type: "string" },
      "client-id": { type: "string" },
      deployment: { type: "string" },
      endpoint: { type: "string" },
      username: { type: "string" },
      name: { type: "string" },
      id: { type: "string" },
      type: { type: "string" },
      table: { type: "string" },
      force: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
}

process.exitCode = await main();
