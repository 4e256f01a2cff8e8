import { Duration, RemovalPolicy } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";

import { partitionsFor, READ_ACTIONS, type TableAccess, WRITE_ACTIONS } from "../table-access.js";

export interface HltaFunctionProps {
  /** Absolute path of the TypeScript entry file. */
  entry: string;
  /** Exported handler name in the entry file. */
  handler?: string;
  description?: string;
  /** Default 10 s (the HTTP API gives up on an integration after 30 s). */
  timeout?: Duration;
  /** Default 512 MB: more memory also means proportionally more CPU, so faster cold starts. */
  memorySize?: number;
  /** Default one month. */
  logRetention?: logs.RetentionDays;
  /**
   * Default true: source maps shipped and enabled (`--enable-source-maps`), so stack traces in
   * the logs point at the TypeScript. Off for the web function: measured here, enabling them
   * adds ≈ 10 ms (≈ 15 %) to the cold import of the web bundle (its 790 KB map is parsed at
   * load), which a candidate waits for on the first click; its errors carry a reference id.
   */
  sourceMaps?: boolean;
  /** Directory holding package-lock.json; esbuild resolves and bundles from there. */
  projectRoot: string;
  environment?: Record<string, string>;
  /** Unset: the account's unreserved pool. 1 makes a scheduled sweeper run one at a time. */
  reservedConcurrentExecutions?: number;
  /** Retries of a failed asynchronous invocation (EventBridge, for instance). Default 2. */
  retryAttempts?: number;
  /** How long an asynchronous event may wait (throttled) before Lambda drops it. Default 6 h. */
  maxEventAge?: Duration;
}

// ESM bundles have no `require`; a CommonJS dependency that calls require("node:…") needs one.
// The alias avoids clashing with any `createRequire` in the bundled code.
const ESM_REQUIRE_BANNER =
  "import { createRequire as __hltaCreateRequire } from 'node:module'; const require = __hltaCreateRequire(import.meta.url);";

/** The SDK's default credential chain, and what the Lambda bundles use instead. */
export const CREDENTIAL_CHAIN = "@aws-sdk/credential-provider-node";
export const LAMBDA_CREDENTIALS = "./functions/lambda-credentials.ts";
/** Module paths the Lambda bundles take from the project instead (see each file for why). */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  [CREDENTIAL_CHAIN]: LAMBDA_CREDENTIALS,
  "node:process": "./functions/node-process.ts",
  "@smithy/core/event-streams": "./functions/no-event-streams.ts",
};

/**
 * The house Lambda: Node.js 22 on arm64, an ESM bundle built with the local esbuild (no Docker),
 * minified with source maps, the AWS SDK v3 bundled in, X-Ray tracing, and a log group with a
 * retention period. Its own role, with no managed policy: it writes to its own log group only
 * (not AWSLambdaBasicExecutionRole's logs actions on every group of the account), and X-Ray.
 * `bindTable` / `bindSecret` set the environment variable the code reads and grant access
 * through the resource's grants; the only hand-written statements are `bindTable`'s fences.
 */
export class HltaFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: HltaFunctionProps) {
    super(scope, id);

    // An explicit log group (rather than the deprecated `logRetention`, which needs a custom
    // resource Lambda) so retention is plain CloudFormation.
    this.logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // The function's own role. Given no role, Lambda's construct makes one carrying the managed
    // AWSLambdaBasicExecutionRole: logs:CreateLogGroup, CreateLogStream and PutLogEvents on
    // Resource "*", so any function could create log groups and write into any other's log.
    // The log group exists already (above), so writing to it is all the function needs; the
    // X-Ray statement (PutTraceSegments, PutTelemetryRecords on "*", which X-Ray requires) is
    // added to this role by `tracing` below.
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
    });

    const sourceMaps = props.sourceMaps ?? true;
    this.fn = new nodejs.NodejsFunction(this, "Function", {
      entry: props.entry,
      handler: props.handler ?? "handler",
      ...(props.description ? { description: props.description } : {}),
      // Always explicit: without it this CDK version falls back to an old runtime.
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      ...(props.retryAttempts !== undefined ? { retryAttempts: props.retryAttempts } : {}),
      ...(props.maxEventAge ? { maxEventAge: props.maxEventAge } : {}),
      role: this.role,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      projectRoot: props.projectRoot,
      depsLockFilePath: `${props.projectRoot}/package-lock.json`,
      environment: {
        // Stack traces in the logs point at the TypeScript sources, not the minified bundle.
        ...(sourceMaps ? { NODE_OPTIONS: "--enable-source-maps" } : {}),
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        // Prefer packages' ESM builds, so the bundle is ESM throughout and tree-shakes.
        mainFields: ["module", "main"],
        banner: ESM_REQUIRE_BANNER,
        target: "node22",
        minify: true,
        sourceMap: sourceMaps,
        // Line mapping is enough for stack traces; embedding the sources would double the size.
        sourcesContent: false,
        // The AWS SDK v3 is bundled, not taken from the runtime (an empty list, because the
        // default for Node.js 18+ leaves out @aws-sdk/* and @smithy/*). Measured here: the
        // bundled, tree-shaken, minified SDK evaluates faster at cold start than the runtime's
        // node_modules copy (one file, no module resolution), and it pins the SDK version to
        // the one in package-lock.json that the tests run with. Cost: ≈330 KB (minified) more
        // per bundle; the bundles stay under 1 MB.
        externalModules: [],
        // In Lambda the credentials are in the environment: only that link of the default
        // chain is bundled (functions/lambda-credentials.ts says why); `process` is the global
        // (functions/node-process.ts). Relative to projectRoot.
        esbuildArgs: Object.fromEntries(
          Object.entries(BUNDLE_ALIASES).map(([from, to]) => [`--alias:${from}`, to]),
        ),
      },
    });
    // logs:CreateLogStream and logs:PutLogEvents on this function's log group only.
    this.logGroup.grantWrite(this.fn);
  }

  /**
   * Sets TABLE_NAME and grants exactly `access.actions` on the table and its index (nothing
   * else: no Scan, no BatchGetItem, no DescribeTable), and the table's KMS key for them (decrypt;
   * encrypt too when one of them writes). Items whose partition key is one of
   * `access.deniedPartitions` stay out of reach whatever else is granted. Each action bounded by
   * a fence (`partitionsFor`: `readablePartitions` for its reads, `writablePartitions` or
   * `writablePartitionsByAction` for its writes) reaches those partitions only: a Deny on it
   * for any leading key outside them, on the table and its index.
   */
  bindTable(table: dynamodb.Table, access: TableAccess): this {
    const { actions, deniedPartitions } = access;
    this.fn.addEnvironment("TABLE_NAME", table.tableName);
    const iamActions = actions.map((a) => `dynamodb:${a}`);
    table.grants.actions(this.fn, ...iamActions);
    const writes = actions.filter((a) => WRITE_ACTIONS.includes(a));
    if (writes.length > 0) table.encryptionKey?.grantEncryptDecrypt(this.fn);
    else table.encryptionKey?.grantDecrypt(this.fn);
    const deny = (denied: string[], conditions: Record<string, Record<string, string[]>>) =>
      this.fn.addToRolePolicy(
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          actions: denied,
          resources: [table.tableArn, `${table.tableArn}/index/*`],
          conditions,
        }),
      );
    if (deniedPartitions.length > 0) {
      deny(iamActions, { "ForAnyValue:StringEquals": { "dynamodb:LeadingKeys": [...deniedPartitions] } });
    }
    checkFences(access);
    // One Deny per distinct fence, naming the actions it bounds: an action whose request has any
    // leading key outside its partitions (`E` itself, or `E#…`) is refused.
    const fences = new Map<string, { partitions: readonly string[]; actions: string[] }>();
    for (const action of actions) {
      const partitions = partitionsFor(access, action);
      if (partitions === undefined) continue;
      const key = JSON.stringify(partitions);
      const fence = fences.get(key) ?? { partitions, actions: [] };
      fence.actions.push(`dynamodb:${action}`);
      fences.set(key, fence);
    }
    for (const { partitions, actions: fenced } of fences.values()) {
      const patterns = partitions.flatMap((e) => [e, `${e}#*`]);
      deny(fenced, { "ForAnyValue:StringNotLike": { "dynamodb:LeadingKeys": patterns } });
    }
    return this;
  }

  /**
   * Puts the secret's ARN (never its value) in `variable` and grants read on the secret, so
   * the code fetches the value at run time.
   */
  bindSecret(secret: secretsmanager.ISecret, variable: string): this {
    this.fn.addEnvironment(variable, secret.secretArn);
    secret.grantRead(this.fn);
    return this;
  }
}

/** A fence that names nothing, or an action the function does not hold, is a mistake: refused. */
function checkFences(access: TableAccess): void {
  const problems: string[] = [];
  const holds = (actions: readonly string[]) => actions.some((a) => (access.actions as string[]).includes(a));
  if (access.readablePartitions && !holds(READ_ACTIONS)) problems.push("readablePartitions without a read");
  if (access.writablePartitions && !holds(WRITE_ACTIONS)) problems.push("writablePartitions without a write");
  for (const [action, partitions] of Object.entries(access.writablePartitionsByAction ?? {})) {
    if (!WRITE_ACTIONS.includes(action as never) || !holds([action])) {
      problems.push(`writablePartitionsByAction names ${action}, not a write the function holds`);
    }
    const outside = (partitions ?? []).filter((p) => !(access.writablePartitions ?? []).includes(p));
    if (outside.length > 0)
      problems.push(`${action} may write ${outside.join(", ")}, outside writablePartitions`);
  }
  for (const fence of [
    access.readablePartitions,
    access.writablePartitions,
    ...Object.values(access.writablePartitionsByAction ?? {}),
  ]) {
    if (fence?.length === 0)
      problems.push("an empty fence (deny the action instead: leave it out of actions)");
  }
  if (problems.length > 0) throw new Error(`bindTable: ${problems.join("; ")}`);
}
