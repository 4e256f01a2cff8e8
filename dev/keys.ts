/**
 * The tool's signing keys and administrator key:
 *   npm run keys -- rotate [--now] [--table NAME]   publish a new key; it signs once platforms' cached keysets have it
 *   npm run keys -- list   [--table NAME]   show kids and dates (never the private keys)
 *   npm run keys -- admin-key [--table NAME]   print the tool administrator key for /admin
 *   npm run keys -- admin-key --replace [--table NAME]   a new administrator key in place of the
 *     old one, which no longer signs in; every administration session open ends
 * Without --table: the local tool's key file in .data/keys/. With --table: a deployed stack's
 * table (AWS credentials from the environment).
 */
import "./quiet-sdk.js";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createDynamoClients } from "../adapters/dynamo/client.js";
import { DynamoToolKeyStore } from "../adapters/dynamo/tool-keys.js";
import { FileToolKeyStore } from "../adapters/file/tool-keys.js";
import type { ToolKeyStore } from "../lti-tool/ports.js";
import {
  ADMIN_KEY_SECRET,
  newAdminKey,
  replaceAdminKey,
  StoredKeySigner,
  signingKeyAt,
  stopsSigningAt,
} from "../lti-tool/tool-keys.js";
import { cliErrorMessage, commandOf, parsedFlags } from "./cli.js";
import { DATA_DIR, deployedRegionOrSay } from "./runtime-file.js";

const USAGE = `Usage: npm run keys -- rotate [--now] | list | admin-key [--replace] [--table NAME]
  rotate      publish a new signing key at once; it signs from 7 minutes later, when every
              platform's cached copy of the keyset has it (the current key signs until then)
  --now       with rotate, for a key that must not be trusted any more (leaked): the new key
              signs at once and every other key leaves the keyset
  list        show the keys' ids and dates (never the private keys); the default
  admin-key   print the tool administrator key for /admin
  --replace   with admin-key, for a key that must not be trusted any more: print a new key
              in place of the old one, which no longer signs in, and end every administration
              session open (in every browser)
  --table     a deployed stack's table (AWS credentials from the environment); without it, the
              local tool's key file in .data/keys/`;

const COMMANDS = ["rotate", "list", "admin-key"] as const;
/** The flags that belong to one command: given with another, they would be ignored silently. */
const FLAG_OF_COMMAND = { now: "rotate", replace: "admin-key" } as const;

async function main(): Promise<number> {
  const parsed = parsedFlags(parse, USAGE);
  if (typeof parsed === "number") return parsed;
  // `list` when no command is given.
  const command = commandOf(parsed.positionals.length > 0 ? parsed.positionals : ["list"], COMMANDS, USAGE);
  if (typeof command === "number") return command;
  for (const [flag, owner] of Object.entries(FLAG_OF_COMMAND)) {
    if (parsed.values[flag as keyof typeof FLAG_OF_COMMAND] && command !== owner) {
      console.error(`--${flag} goes with ${owner}, not with ${command}.\n${USAGE}`);
      return 2;
    }
  }
  const table = parsed.values.table;
  const region = table ? deployedRegionOrSay() : undefined;
  if (table && !region) return 1;
  const clients = table ? createDynamoClients({ region }) : undefined;
  const store: ToolKeyStore =
    table && clients
      ? new DynamoToolKeyStore(clients.doc, table)
      : new FileToolKeyStore(join(DATA_DIR, "keys", "tool-keys.json"));
  try {
    if (command === "rotate") {
      const immediately = parsed.values.now === true;
      const result = await new StoredKeySigner(store).rotate({ immediately });
      console.log(
        `New signing key ${result.current.kid}, published now; it signs ${result.signsFrom <= result.current.createdAt ? "from now on" : `from ${result.signsFrom}`}.`,
      );
      console.log(`Published: ${result.published.join(", ")}.`);
      if (result.removed.length) console.log(`No longer published: ${result.removed.join(", ")}.`);
      console.log(
        result.signsFrom <= result.current.createdAt
          ? "Running tools sign with it within a minute; platforms fetch the keyset again on its new kid."
          : "Until then the current key signs, so no platform meets a key its cached keyset does not have.",
      );
      return 0;
    }
    if (command === "admin-key" && parsed.values.replace) {
      // Read by the web app at each sign-in, never kept: the old key stops on every instance now.
      const key = await replaceAdminKey(store);
      console.log("New tool administrator key (the old one no longer signs in):");
      console.log(Buffer.from(key).toString("base64url"));
      console.log("Every administration session that was open has ended: sign in again at /admin.");
      return 0;
    }
    if (command === "admin-key") {
      // The same secret the web app checks at /admin/login, created on first use.
      const key = await store.getOrCreateSecret(ADMIN_KEY_SECRET, newAdminKey);
      console.log(Buffer.from(key).toString("base64url"));
      return 0;
    }
    // list (the default)
    const keys = await store.listKeys();
    if (keys.length === 0) console.log("No signing key yet: the tool makes one when it first starts.");
    const now = new Date();
    const signing = signingKeyAt(keys, now);
    for (const k of keys) {
      const from = k.activeFrom ?? k.createdAt;
      const until = stopsSigningAt(keys, k);
      const state =
        k === signing
          ? `signing${until ? ` until ${until}` : ""}`
          : from > now.toISOString()
            ? `signs from ${from}`
            : `stopped signing ${until}`;
      console.log(`${k.kid}  created ${k.createdAt}  (${state})`);
    }
    return 0;
  } catch (error) {
    // A damaged key file, a data folder that cannot be written, no AWS credentials: said plainly.
    console.error(`Not done: ${cliErrorMessage(error)}`);
    return 1;
  } finally {
    clients?.client.destroy();
  }
}

function parse() {
  return parseArgs({
    options: {
      table: { type: "string" },
      now: { type: "boolean" },
      replace: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
}

process.exitCode = await main();
