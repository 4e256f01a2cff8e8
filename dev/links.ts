/**
 * Registration links (dynamic registration by invitation) from the command line, as the admin
 * page makes them (/admin/links):
 *   npm run links -- create --note "St Mary's Moodle" [--days 14] [--table NAME --url https://<api>]
 *   npm run links -- list [--table NAME]
 *   npm run links -- remove --id=ID [--table NAME]   (with "=": an id may start with "-")
 * Without --table: the local tool (`npm start`). With --table: a deployed stack's table (AWS
 * credentials from the environment); --url is the stack's ApiUrl, to print the whole link.
 */
import "./quiet-sdk.js";
import { parseArgs } from "node:util";
import { DynamoRegistrationLinkStore } from "../adapters/dynamo/registration-links.js";
import { toolUrlsAt } from "../functions/web/http.js";
import {
  createRegistrationLink,
  LINK_DAYS,
  LINK_TOKEN_OR_ID,
  NewLinkSchema,
} from "../lti-tool/registration-links.js";
import { cliErrorMessage, commandOf, parsedFlags } from "./cli.js";
import { openTable, readRuntimeFile } from "./runtime-file.js";

const USAGE = `Usage:
  npm run links -- create --note TEXT [--days N] [--table NAME --url https://<api>]
  npm run links -- list [--table NAME]
  npm run links -- remove --id=ID [--table NAME]
  --note   who the link is for (at most 200 characters), shown in the list
  --id=ID  with "=": a link's id (a SHA-256 in base64url) may start with "-"
  --days   how long it works: ${LINK_DAYS.default} by default, at most ${LINK_DAYS.max}; it registers one LMS, once
  --table  a deployed stack's table (AWS credentials from the environment); --url its ApiUrl`;

async function main(): Promise<number> {
  const parsed = parsedFlags(parse, USAGE);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const command = commandOf(positionals, ["create", "list", "remove"], USAGE);
  if (typeof command === "number") return command;
  // Mistakes in the flags are said before anything is connected.
  let newLink: { note: string; days?: number | undefined } | undefined;
  let baseUrl: string | undefined;
  if (command === "create") {
    const checked = NewLinkSchema().safeParse({
      note: values.note ?? "",
      ...(values.days !== undefined ? { days: values.days } : {}),
    });
    if (!checked.success) {
      console.error(
        `Not created: --note says who the link is for (1 to 200 characters), --days how long it works (1 to ${LINK_DAYS.max}).\n${USAGE}`,
      );
      return 2;
    }
    newLink = checked.data;
    if (!values.table && values.url !== undefined) {
      console.error(`Not created: --url goes with --table (the local tool's address is known).\n${USAGE}`);
      return 2;
    }
    baseUrl = values.table ? values.url : readRuntimeFile()?.toolUrl;
    if (values.table && (!baseUrl || !URL.canParse(baseUrl) || !baseUrl.startsWith("https://"))) {
      console.error(`Not created: with --table, --url must be the stack's ApiUrl (https://…).\n${USAGE}`);
      return 2;
    }
  }
  if (command === "remove" && !LINK_TOKEN_OR_ID.test(values.id ?? "")) {
    console.error(
      `Not removed: --id=ID must be a link's id, as \`npm run links -- list\` shows it.\n${USAGE}`,
    );
    return 2;
  }
  const target = openTable(values.table);
  if (!target) return 1;
  const store = new DynamoRegistrationLinkStore(target.doc, target.tableName);
  try {
    if (newLink) {
      const { token, link } = await createRegistrationLink(store, {
        note: newLink.note,
        validDays: newLink.days ?? LINK_DAYS.default,
      });
      console.log(
        `Registration link for "${link.note}", until ${new Date(link.expiresAt * 1000).toISOString()}:`,
      );
      // Shown this once: only its SHA-256 is kept.
      console.log(`  ${toolUrlsAt((baseUrl ?? "").replace(/\/+$/, "")).registrationLink(token)}`);
      console.log("Give it to that LMS's administrator: it registers one LMS, once. It is not shown again.");
      return 0;
    }
    if (command === "list") {
      const links = await store.list(Math.floor(Date.now() / 1000));
      if (links.length === 0) console.log("No registration links that still work.");
      for (const l of links) {
        const state = l.usedAt
          ? `used ${l.usedAt}${l.usedBy ? ` by ${printable(l.usedBy.issuer)} (client id ${printable(l.usedBy.clientId)})` : ""}`
          : `works until ${new Date(l.expiresAt * 1000).toISOString()}`;
        console.log(`${l.id}  "${printable(l.note)}"  made ${l.createdAt}, ${state}`);
      }
      return 0;
    }
    const id = values.id ?? "";
    const link = await store.get(id);
    if (!link) {
      // Not echoed: what was typed may be a link itself rather than its id.
      console.error("There is no such link (it expired, was removed already, or that is not a link's id).");
      return 1;
    }
    await store.remove(id);
    console.log(
      link.usedAt
        ? `Removed link ${id} from the list. The LMS it registered stays registered.`
        : `Removed link ${id}: it registers nothing any more.`,
    );
    return 0;
  } catch (error) {
    // No AWS credentials, a table that is not there: said plainly.
    console.error(`Not done: ${cliErrorMessage(error)}`);
    return 1;
  } finally {
    target.close();
  }
}

/** What an LMS or an administrator typed, without control characters (no escape sequences for the terminal). */
function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, "�");
}

function parse() {
  return parseArgs({
    options: {
      note: { type: "string" },
      days: { type: "string" },
      id: { type: "string" },
      url: { type: "string" },
      table: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
}

process.exitCode = await main();
