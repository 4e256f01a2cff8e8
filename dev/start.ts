/**
 * `npm start`: the tool on its embedded local default, no AWS account needed.
 * Starts DynamoDB Local and s3rver (data kept in .data/), the tool on 127.0.0.1, and the
 * development LTI platform on localhost (a different site, as a real LMS is), registers the
 * platform with the tool the way an administrator would, and prints what an LMS admin needs.
 */
import "./quiet-sdk.js";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createDynamoClients } from "../adapters/dynamo/client.js";
import { DynamoLrsRouteStore } from "../adapters/dynamo/lrs-routes.js";
import { DynamoOutboxStore } from "../adapters/dynamo/outbox.js";
import { DynamoRegistrationStore } from "../adapters/dynamo/registrations.js";
import { logUnreadable } from "../adapters/dynamo/unreadable.js";
import { FileToolKeyStore } from "../adapters/file/tool-keys.js";
import { gradeDeliveryDeps } from "../functions/grades/deps.js";
import { toolUrlsAt } from "../functions/web/http.js";
import { jsonLogger } from "../functions/web/log.js";
import { deliverDueGrades } from "../lti-tool/advantage/grades.js";
import { registerPlatform } from "../lti-tool/registration.js";
import { createAesGcmCipher } from "../statements/credential-cipher.js";
import { loadOrCreateCredentialKey } from "../statements/credential-key-file.js";
import { startForwarderLoop } from "../statements/forwarder.js";
import { JavaMissingError, startLocalAws } from "./local-services.js";
import { startLoop } from "./loop.js";
import { DEFAULT_DOUBLE_CREDENTIALS, startLrsDouble } from "./lrs-double/index.js";
import { startDevPlatform } from "./platform/index.js";
import { DATA_DIR, readRuntimeFile, removeRuntimeFile, writeRuntimeFile } from "./runtime-file.js";
import { startRunLink } from "./start-link.js";
import { acquireStartLock } from "./start-lock.js";
import { startToolServer } from "./tool-server.js";

const port = (name: string, fallback: number) => {
  const raw = process.env[name];
  const value = raw === undefined || raw === "" ? fallback : /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`${name} must be a port number (0-65535), not "${raw}".`);
    process.exit(2);
  }
  return value;
};

const TOOL_PORT = port("PORT", 8787);
const PLATFORM_PORT = port("PLATFORM_PORT", 8790);
const LRS_PORT = port("LRS_PORT", 8791);
{
  const named: [string, number][] = [
    ["PORT", TOOL_PORT],
    ["PLATFORM_PORT", PLATFORM_PORT],
    ["LRS_PORT", LRS_PORT],
  ];
  for (const [i, [name, value]] of named.entries()) {
    const other = named.slice(i + 1).find(([, v]) => v === value && v !== 0);
    if (other) {
      console.error(`${name} and ${other[0]} are both ${value}: the three servers need a port each.`);
      process.exit(2);
    }
  }
}

async function main() {
  mkdirSync(DATA_DIR, { recursive: true });
  // One local tool per data folder: a second would share DynamoDB Local's files with the first.
  const claimed = await acquireStartLock(DATA_DIR);
  if (!claimed.held) {
    const who = claimed.holderPid ? `process ${claimed.holderPid}` : "another npm start";
    const url = readRuntimeFile()?.toolUrl;
    console.error(
      `The local tool is already running on ${DATA_DIR} (${who}${url ? `, ${url}` : ""}). Stop it with Ctrl+C in its terminal (or kill ${claimed.holderPid ?? "it"}) first, or set HLTA_DATA_DIR to another folder for a second one. If that process is not the tool, delete ${join(DATA_DIR, "start.lock")}.`,
    );
    process.exit(1);
  }
  const { lock } = claimed;
  if (claimed.stoppedLeftOver) {
    console.log(
      `Stopped DynamoDB Local (process ${claimed.stoppedLeftOver.dynamoPid}), left running by an earlier start that was killed.`,
    );
  }
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    removeRuntimeFile();
    for (const stop of stops.reverse()) await stop().catch(() => {});
    lock.release();
  };
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.log("\nStopping…");
      void stopAll().then(() => process.exit(0));
    });
  }

  try {
    step("Starting DynamoDB Local and the local S3 (s3rver)…");
    const aws = await startLocalAws({ dataDir: DATA_DIR, persistDynamo: true });
    stops.push(aws.stop);
    if (aws.dynamoPid) lock.recordDynamo(aws.dynamoPid);

    // LRS credentials are sealed with a key kept beside the data (KMS in AWS, hardening issue).
    const xapiCipher = createAesGcmCipher({
      current: loadOrCreateCredentialKey(join(DATA_DIR, "keys", "xapi-credential.key")),
    });

    step("Starting the LRS test double…");
    const lrs = await startLrsDouble({ port: LRS_PORT });
    stops.push(lrs.stop);

    step("Starting the tool…");
    const tool = await startToolServer({
      dynamoEndpoint: aws.dynamoEndpoint,
      s3Endpoint: aws.s3Endpoint,
      tableName: aws.tableName,
      bucketName: aws.bucketName,
      port: TOOL_PORT,
      host: "127.0.0.1",
      keyStore: new FileToolKeyStore(join(DATA_DIR, "keys", "tool-keys.json")),
      xapiCipher,
      log: jsonLogger((line) => process.stderr.write(`${line}\n`)),
    });
    stops.push(tool.stop);
    const { doc: gradesDoc, client: gradesClient } = createDynamoClients({ endpoint: aws.dynamoEndpoint });
    stops.push(async () => gradesClient.destroy());
    const grades = gradeDeliveryDeps(gradesDoc, aws.tableName, tool.deps.signer, {
      onUnreadable: logUnreadable(tool.deps.log),
    });
    stops.push(startLoop("grades", () => deliverDueGrades(grades, 50), 2_000, tool.deps.log));

    step("Starting the development LMS platform…");
    const platform = await startDevPlatform({
      port: PLATFORM_PORT,
      host: "localhost",
      clientId: "hlta-dev-tool",
      deploymentId: "1",
      name: "Development LMS (Moodle-like)",
      tool: {
        name: "HLTA preparation",
        loginInitiationUrl: `${tool.url}/lti/login`,
        targetLinkUri: `${tool.url}/app`,
        redirectUris: [`${tool.url}/lti/launch`],
        jwksUrl: `${tool.url}/.well-known/jwks.json`,
      },
    });
    stops.push(platform.stop);

    // Registered exactly as an administrator would with `npm run register`.
    const { doc, client } = createDynamoClients({ endpoint: aws.dynamoEndpoint });
    const { deploymentIds, ...reg } = platform.platform.registration();
    // Its issuer carries the port (PLATFORM_PORT), its client id does not: a start on another
    // port registers a second issuer with the same client id, as an administrator may say with
    // `--shared-client-id`. The registration of the old port is left in .data, unused.
    await registerPlatform(
      { ...reg, deploymentIds: [...deploymentIds] },
      new DynamoRegistrationStore(doc, aws.tableName),
      undefined,
      { allowSharedClientId: true },
    );
    // The development platform's tenant sends its statements to the LRS double (an
    // administrator does the same for a real LRS with `npm run lrs -- add …`).
    const lrsRoutes = new DynamoLrsRouteStore(doc, aws.tableName, xapiCipher, {
      onUnreadable: logUnreadable(tool.deps.log),
    });
    const existing = (await lrsRoutes.listRoutes()).find((r) => r.routeId === "dev-lrs-double");
    const sameScope = existing?.scope.issuer === reg.issuer && existing.scope.clientId === reg.clientId;
    if (!existing || existing.endpoint !== lrs.endpoint || !sameScope) {
      await lrsRoutes.saveRoute({
        routeId: "dev-lrs-double",
        scope: { issuer: reg.issuer, clientId: reg.clientId },
        name: "LRS test double (local)",
        endpoint: lrs.endpoint,
        username: DEFAULT_DOUBLE_CREDENTIALS.username,
        password: DEFAULT_DOUBLE_CREDENTIALS.password,
      });
    }
    stops.push(
      startForwarderLoop({
        intervalMs: 500,
        outbox: new DynamoOutboxStore(doc, aws.tableName, { onUnreadable: logUnreadable(tool.deps.log) }),
        routes: lrsRoutes,
        onEvent: (event) => {
          if (event.type === "parked" || event.type === "round_failed")
            tool.deps.log.warn(`xapi.${event.type}`, event);
        },
      }),
    );
    stops.push(async () => client.destroy());

    writeRuntimeFile({
      pid: process.pid,
      dynamoEndpoint: aws.dynamoEndpoint,
      s3Endpoint: aws.s3Endpoint,
      tableName: aws.tableName,
      bucketName: aws.bucketName,
      toolUrl: tool.url,
    });

    const adminKey = Buffer.from(await tool.deps.adminKey()).toString("base64url");
    // Dynamic registration works only with a link the provider made (/admin/links): one for this run.
    const token = await startRunLink(tool.deps.registrationLinks);
    const urls = toolUrlsAt(tool.url);
    console.log(`
HLTA preparation tool is running (local mode: DynamoDB Local + s3rver, data in ${DATA_DIR}).

For an LMS administrator (LTI 1.3):
  Dynamic registration   ${urls.registrationLink(token)}
                         (Moodle 4.x, Canvas: paste this one URL; it registers one LMS, within 7 days;
                          make more at ${tool.url}/admin/links)
  Canvas JSON config     ${urls.canvasConfig}
  Login initiation URL   ${urls.login}
  Redirect (launch) URL  ${urls.launch}
  Target link URI        ${urls.targetLinkUri}
  Deep linking URL       ${urls.deepLinking}
  Public keyset (JWKS)   ${urls.jwks}

Try it without an LMS:
  ${platform.url}/   development platform: click "Launch as candidate"

xAPI statements arrive at the LRS test double: ${lrs.url}/
Tool administration: ${tool.url}/admin   (local administrator key: ${adminKey})
Register a real LMS by hand:  npm run register -- --help
Stop with Ctrl+C.`);
  } catch (error) {
    await stopAll();
    if (error instanceof JavaMissingError) {
      console.error(`\n${error.message}`);
    } else {
      console.error(`\nThe tool could not start: ${(error as Error).message}`);
      if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
        const busy = (error as NodeJS.ErrnoException & { port?: number }).port;
        const which = [
          ["PORT", TOOL_PORT],
          ["PLATFORM_PORT", PLATFORM_PORT],
          ["LRS_PORT", LRS_PORT],
        ].find(([, p]) => p === busy)?.[0];
        console.error(
          which
            ? `Port ${busy} is in use: set ${which} to a free one.`
            : "A port is in use: set PORT (tool, default 8787), PLATFORM_PORT (8790) or LRS_PORT (8791) to free ones.",
        );
      }
    }
    process.exit(1);
  }
}

function step(message: string) {
  console.log(message);
}

await main();
