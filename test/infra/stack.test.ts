import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CfnResource } from "aws-cdk-lib";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { tableDefinition } from "../../adapters/dynamo/schema.js";
import { keys } from "../../adapters/dynamo/table.js";
import { courseScopeKey } from "../../domain/tenancy.js";
import { ADMIN_PATHS } from "../../infra/api-routes.js";
import { infraConfigFrom } from "../../infra/config.js";
import { HltaFunction } from "../../infra/constructs/hlta-function.js";
import {
  API_THROTTLE,
  HltaStack,
  OUTBOX_PK_PREFIX,
  SWEEP_RATE,
  XAPI_CREDENTIAL_SECRET_ARN,
} from "../../infra/stacks/hlta-stack.js";
import {
  COURSE_PARTITION,
  entityOf,
  READ_ACTIONS,
  TABLE_ACCESS,
  type TableAccess,
  type TableAction,
  TOOL_KEY_PARTITION,
  TOOL_SECRET_PARTITION,
  WRITE_ACTIONS,
} from "../../infra/table-access.js";
import { decide, statementsOf, tableDecision } from "./iam-model.js";

// The same feature flags as `cdk synth`, so the test sees the template that would deploy.
const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}
interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

let app: App;
let stack: HltaStack;
let template: Template;

const logicalId = (construct: { node: { defaultChild?: unknown } } | CfnResource): string => {
  const cfn = ("logicalId" in construct ? construct : construct.node.defaultChild) as CfnResource;
  return Stack.of(cfn).getLogicalId(cfn);
};

/** Every statement of the inline policies attached to a role, by the role's logical id. */
function statementsOfRole(roleId: string): PolicyStatement[] {
  const policies = Object.values(template.findResources("AWS::IAM::Policy")) as Resource[];
  return policies
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement);
}
const actionsOf = (statements: PolicyStatement[]): string[] =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
/** The table actions a function may take (the stream's own read actions set apart), sorted. */
const STREAM_ACTIONS = [
  "dynamodb:DescribeStream",
  "dynamodb:GetRecords",
  "dynamodb:GetShardIterator",
  "dynamodb:ListStreams",
];
const tableActionsOf = (fn: Fn): string[] =>
  [
    ...new Set(
      actionsOf(statementsOfRole(roleOf(fn)).filter((s) => s.Effect === "Allow")).filter(
        (a) => a.startsWith("dynamodb:") && !STREAM_ACTIONS.includes(a),
      ),
    ),
  ].sort();
/** The partitions a Deny statement on LeadingKeys keeps out of a function's reach. */
const deniedPartitionsOf = (fn: Fn): string[] =>
  statementsOfRole(roleOf(fn))
    .filter((s) => s.Effect === "Deny")
    .flatMap((s) => (s.Condition?.["ForAnyValue:StringEquals"]?.["dynamodb:LeadingKeys"] as string[]) ?? [])
    .sort();

/** The Deny statements fencing a function's actions: sorted actions → the leading keys allowed. */
function fencesOf(fn: Fn): Record<string, unknown> {
  const fences = statementsOfRole(roleOf(fn)).filter(
    (s) => s.Effect === "Deny" && s.Condition?.["ForAnyValue:StringNotLike"] !== undefined,
  );
  const byActions = Object.fromEntries(
    fences.map((s) => [
      actionsOf([s]).sort().join(" "),
      s.Condition?.["ForAnyValue:StringNotLike"]?.["dynamodb:LeadingKeys"],
    ]),
  );
  // No two fences on the same actions (the second would hide in this map).
  expect(Object.keys(byActions)).toHaveLength(fences.length);
  for (const s of fences) {
    expect(Object.keys(s.Condition ?? {})).toEqual(["ForAnyValue:StringNotLike"]);
    expect(s.Resource).toEqual([
      { "Fn::GetAtt": [logicalId(stack.table.table), "Arn"] },
      { "Fn::Join": ["", [{ "Fn::GetAtt": [logicalId(stack.table.table), "Arn"] }, "/index/*"]] },
    ]);
  }
  return byActions;
}

function theSecret(): Resource {
  const secrets = Object.values(template.findResources("AWS::SecretsManager::Secret")) as Resource[];
  expect(secrets).toHaveLength(1);
  return secrets[0] as Resource;
}

function theTable(): Resource {
  const tables = Object.values(template.findResources("AWS::DynamoDB::Table")) as Resource[];
  expect(tables).toHaveLength(1);
  return tables[0] as Resource;
}

type Fn = HltaStack["web"];
const roleOf = (fn: Fn) => logicalId(fn.fn.role as unknown as { node: { defaultChild?: unknown } });
const allFunctions = (): Fn[] => [
  stack.web,
  stack.admin,
  stack.forwarder,
  stack.forwarderSweep,
  stack.grades,
];
const functionResource = (fn: Fn) =>
  template.findResources("AWS::Lambda::Function")[logicalId(fn.fn)] as Resource;

beforeAll(() => {
  // Bundles the three entries (the sweep shares the forwarder's) with the local esbuild.
  app = new App({ context: cdkJson.context });
  stack = new HltaStack(app, "Hlta-test", { stage: "test" });
  template = Template.fromStack(stack);
});

describe("table", () => {
  it("has the generic keys, gsi1, the TTL attribute and a NEW_IMAGE stream", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      BillingMode: "PAY_PER_REQUEST",
      GlobalSecondaryIndexes: [
        {
          IndexName: "gsi1",
          KeySchema: [
            { AttributeName: "gsi1pk", KeyType: "HASH" },
            { AttributeName: "gsi1sk", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      StreamSpecification: { StreamViewType: "NEW_IMAGE" },
    });
  });

  it("is encrypted with its own rotating KMS key, has point-in-time recovery and is retained", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      SSESpecification: {
        SSEEnabled: true,
        SSEType: "KMS",
        KMSMasterKeyId: { "Fn::GetAtt": [logicalId(stack.table.encryptionKey), "Arn"] },
      },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    template.hasResource("AWS::DynamoDB::Table", { DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
    // Nor can a console or CLI slip delete it.
    template.hasResourceProperties("AWS::DynamoDB::Table", { DeletionProtectionEnabled: true });
    template.hasResource("AWS::KMS::Key", {
      Properties: Match.objectLike({ EnableKeyRotation: true }),
      DeletionPolicy: "Retain",
    });
  });

  it("agrees with tableDefinition() in adapters/dynamo/schema.ts, which creates the local table", () => {
    const local = tableDefinition("x");
    const cdk = theTable().Properties as {
      KeySchema: unknown;
      AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
      GlobalSecondaryIndexes: { IndexName: string; KeySchema: unknown; Projection: unknown }[];
      StreamSpecification: { StreamViewType: string };
      BillingMode: string;
    };
    const byName = (a: { AttributeName: string }, b: { AttributeName: string }) =>
      a.AttributeName.localeCompare(b.AttributeName);

    expect(cdk.KeySchema).toEqual(local.KeySchema);
    expect([...cdk.AttributeDefinitions].sort(byName)).toEqual([...local.AttributeDefinitions].sort(byName));
    expect(cdk.GlobalSecondaryIndexes).toEqual(local.GlobalSecondaryIndexes);
    expect(cdk.StreamSpecification.StreamViewType).toBe(local.StreamSpecification.StreamViewType);
    expect(cdk.BillingMode).toBe(local.BillingMode);
  });
});

describe("evidence bucket", () => {
  it("blocks public access, is KMS-encrypted with its own key, versioned, owner-enforced and retained", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: "aws:kms",
              KMSMasterKeyID: { "Fn::GetAtt": [logicalId(stack.evidence.encryptionKey), "Arn"] },
            },
          }),
        ],
      },
      VersioningConfiguration: { Status: "Enabled" },
      OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
    });
    template.hasResource("AWS::S3::Bucket", { DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
  });

  it("forgets deleted or replaced files a month on, and abandoned uploads after a week", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: "Enabled" }),
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: "Enabled" }),
        ]),
      },
    });
  });

  it("denies every request that is not over TLS", () => {
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: { Ref: logicalId(stack.evidence.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Action: "s3:*",
            Principal: { AWS: "*" },
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
  });
});

describe("functions", () => {
  it("are Node.js 22 on arm64 with tracing and their own log group; source maps except on the web", () => {
    template.resourceCountIs("AWS::Lambda::Function", 5);
    template.allResourcesProperties("AWS::Lambda::Function", {
      Runtime: "nodejs22.x",
      Architectures: ["arm64"],
      MemorySize: 512,
      TracingConfig: { Mode: "Active" },
      LoggingConfig: { LogGroup: { Ref: Match.anyValue() } },
    });
    template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: 30 });
  });

  it("tell the code where the table, the bucket and the key secret are, and nothing more", () => {
    const environmentOf = (fn: Fn) =>
      (functionResource(fn).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const table = { Ref: logicalId(stack.table.table) };
    const secretArn = { Ref: logicalId(stack.xapiCredentialKey.secret) };
    // No source maps on the web function: they cost its cold start ≈ 10 ms (hlta-function.ts).
    // Neither the bucket nor the LRS credential key yet: the web function reads neither.
    expect(environmentOf(stack.web)).toEqual({ TABLE_NAME: table });
    expect(environmentOf(stack.admin)).toEqual({ NODE_OPTIONS: "--enable-source-maps", TABLE_NAME: table });
    for (const fn of [stack.forwarder, stack.forwarderSweep]) {
      expect(environmentOf(fn)).toEqual({
        NODE_OPTIONS: "--enable-source-maps",
        TABLE_NAME: table,
        [XAPI_CREDENTIAL_SECRET_ARN]: secretArn,
      });
    }
    expect(environmentOf(stack.grades)).toEqual({ NODE_OPTIONS: "--enable-source-maps", TABLE_NAME: table });
  });

  it("run the right export of the right entry", () => {
    const codeOf = (fn: Fn) => (functionResource(fn).Properties.Code as { S3Key: string }).S3Key;
    const handlerOf = (fn: Fn) => functionResource(fn).Properties.Handler;
    expect(handlerOf(stack.web)).toBe("index.handler");
    expect(handlerOf(stack.admin)).toBe("index.handler");
    expect(handlerOf(stack.forwarder)).toBe("index.handler");
    expect(handlerOf(stack.forwarderSweep)).toBe("index.sweep");
    expect(handlerOf(stack.grades)).toBe("index.handler");
    // The sweep is the forwarder's bundle (same entry), the grades function its own.
    expect(codeOf(stack.forwarderSweep)).toBe(codeOf(stack.forwarder));
    expect(new Set(allFunctions().map(codeOf)).size).toBe(4);
  });

  it("are ESM bundles with a require shim and the AWS SDK bundled in", () => {
    const assembly = app.synth();
    for (const fn of allFunctions()) {
      const s3Key = (functionResource(fn).Properties.Code as { S3Key: string }).S3Key;
      const bundle = readFileSync(
        join(assembly.directory, `asset.${s3Key.replace(/\.zip$/, "")}`, "index.mjs"),
        "utf8",
      );
      expect(bundle.startsWith("import { createRequire as __hltaCreateRequire }")).toBe(true);
      // No import of the SDK or its @smithy dependencies is left for the runtime to resolve.
      expect(bundle).not.toMatch(/from\s*"@(aws-sdk|smithy)\//);
      expect(bundle).not.toMatch(/import\(\s*"@(aws-sdk|smithy)\//);
      // The DynamoDB client is in the bundle: its service id appears in the bundled code.
      expect(bundle).toContain("DynamoDB_20120810");
      // Credentials come from the environment only: fromEnv's message is there, the rest of the
      // default chain (SSO, ini files, processes, web identity…) is not.
      expect(bundle).toContain("Unable to find environment variable credentials");
      expect(bundle).not.toContain("Could not load credentials from any providers");
      expect(bundle).not.toContain("defaultProvider::fromSSO");
      // `process` is the global, not the node:process module (functions/node-process.ts).
      expect(bundle).not.toMatch(/from\s*"(node:)?process"/);
      // The SDK's event-stream code is left out (functions/no-event-streams.ts): its stand-in is in.
      expect(bundle).not.toContain("@smithy/core/event-streams - header");
      expect(bundle).toContain("EventStreamsNotBundledError");
      expect(bundle.length).toBeLessThan(1_500_000);
      // Source maps ship with every function but the web one (its cold start, hlta-function.ts).
      const map = join(assembly.directory, `asset.${s3Key.replace(/\.zip$/, "")}`, "index.mjs.map");
      expect(existsSync(map)).toBe(fn !== stack.web);
    }
  });
});

describe("scheduled sweeps", () => {
  const scheduleOf = (rule: HltaStack["gradesSchedule"]) =>
    template.findResources("AWS::Events::Rule")[logicalId(rule)] as Resource;

  it("run the forwarder sweep and grade delivery every minute, one rule each", () => {
    expect(SWEEP_RATE.toMinutes()).toBe(1);
    template.resourceCountIs("AWS::Events::Rule", 2);
    for (const [rule, fn] of [
      [stack.forwarderSweepSchedule, stack.forwarderSweep],
      [stack.gradesSchedule, stack.grades],
    ] as const) {
      expect(scheduleOf(rule).Properties).toMatchObject({
        ScheduleExpression: "rate(1 minute)",
        State: "ENABLED",
        Targets: [{ Arn: { "Fn::GetAtt": [logicalId(fn.fn), "Arn"] } }],
      });
      template.hasResourceProperties("AWS::Lambda::Permission", {
        Action: "lambda:InvokeFunction",
        Principal: "events.amazonaws.com",
        FunctionName: { "Fn::GetAtt": [logicalId(fn.fn), "Arn"] },
        SourceArn: { "Fn::GetAtt": [logicalId(rule), "Arn"] },
      });
    }
  });

  it("run one at a time, within a minute, and are not retried (the next tick is the retry)", () => {
    for (const fn of [stack.forwarderSweep, stack.grades]) {
      expect(functionResource(fn).Properties).toMatchObject({ ReservedConcurrentExecutions: 1, Timeout: 60 });
      template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
        FunctionName: { Ref: logicalId(fn.fn) },
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 60,
      });
    }
    // The stream forwarder, the web and the admin function keep the account's pool.
    for (const fn of [stack.web, stack.admin, stack.forwarder]) {
      expect(functionResource(fn).Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
  });
});

describe("xAPI credential key", () => {
  it("is a generated secret (256 bits of alphanumerics), retained, not rotated", () => {
    template.resourceCountIs("AWS::SecretsManager::Secret", 1);
    template.hasResource("AWS::SecretsManager::Secret", {
      Properties: Match.objectLike({
        GenerateSecretString: { PasswordLength: 43, ExcludePunctuation: true, IncludeSpace: false },
      }),
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
    });
    template.resourceCountIs("AWS::SecretsManager::RotationSchedule", 0);
  });

  it("never appears in the template as a value: only the ARN goes into the environment", () => {
    const secret = stack.xapiCredentialKey.secret;
    const props = theSecret().Properties;
    expect(props).not.toHaveProperty("SecretString");
    const environments = JSON.stringify(
      allFunctions().map((fn) => functionResource(fn).Properties.Environment),
    );
    expect(environments).not.toMatch(/XAPI_CREDENTIAL_KEY"/);
    expect(environments).not.toContain("resolve:secretsmanager");
    expect(environments).toContain(JSON.stringify({ Ref: logicalId(secret) }));
  });

  it("can be read by the forwarder and its sweep, not by the web function or grade delivery", () => {
    const readers = [stack.forwarder, stack.forwarderSweep];
    const secretRef = { Ref: logicalId(stack.xapiCredentialKey.secret) };
    for (const fn of readers) {
      expect(statementsOfRole(roleOf(fn))).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: "Allow",
            Action: expect.arrayContaining(["secretsmanager:GetSecretValue"]),
            Resource: secretRef,
          }),
        ]),
      );
    }
    for (const fn of [stack.grades, stack.web, stack.admin]) {
      expect(actionsOf(statementsOfRole(roleOf(fn))).filter((a) => a.startsWith("secretsmanager:"))).toEqual(
        [],
      );
    }
    // Reading the value is all: nobody may change it.
    for (const fn of allFunctions()) {
      const actions = actionsOf(statementsOfRole(roleOf(fn))).filter((a) => a.startsWith("secretsmanager:"));
      expect(
        actions.every((a) => ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"].includes(a)),
      ).toBe(true);
    }
  });
});

describe("HTTP API", () => {
  it("sends the administration paths to the admin function and every other to the web function", () => {
    template.resourceCountIs("AWS::ApiGatewayV2::Api", 1);
    template.hasResourceProperties("AWS::ApiGatewayV2::Api", { ProtocolType: "HTTP" });
    const integrations = template.findResources("AWS::ApiGatewayV2::Integration") as Record<string, Resource>;
    /** The function a route's integration invokes. */
    const functionOf = (route: Resource) => {
      const [, [, target]] = (route.Properties.Target as { "Fn::Join": [string, [string, { Ref: string }]] })[
        "Fn::Join"
      ];
      const uri = integrations[target.Ref]?.Properties.IntegrationUri as { "Fn::GetAtt": [string, string] };
      return uri["Fn::GetAtt"][0];
    };
    for (const integration of Object.values(integrations)) {
      expect(integration.Properties).toMatchObject({
        IntegrationType: "AWS_PROXY",
        PayloadFormatVersion: "2.0",
      });
    }
    const routes = Object.values(template.findResources("AWS::ApiGatewayV2::Route")) as Resource[];
    const byKey = Object.fromEntries(routes.map((r) => [r.Properties.RouteKey as string, r]));
    expect(Object.keys(byKey).sort()).toEqual(["$default", ...ADMIN_PATHS.map((p) => `ANY ${p}`)].sort());
    const web = logicalId(stack.web.fn);
    const admin = logicalId(stack.admin.fn);
    expect(functionOf(byKey.$default as Resource)).toBe(web);
    for (const path of ADMIN_PATHS) expect(functionOf(byKey[`ANY ${path}`] as Resource)).toBe(admin);
  });

  it("throttles every route, sets no CORS and keeps no access log (session tokens travel in query strings)", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      DefaultRouteSettings: {
        ThrottlingRateLimit: API_THROTTLE.rateLimit,
        ThrottlingBurstLimit: API_THROTTLE.burstLimit,
      },
    });
    for (const stage of Object.values(template.findResources("AWS::ApiGatewayV2::Stage")) as Resource[]) {
      expect(stage.Properties.AccessLogSettings).toBeUndefined();
    }
    for (const api of Object.values(template.findResources("AWS::ApiGatewayV2::Api")) as Resource[]) {
      expect(api.Properties.CorsConfiguration).toBeUndefined();
    }
  });

  it("outputs the address of the credential key secret (not its value), for npm run lrs -- … --table", () => {
    template.hasOutput("XapiCredentialSecretArn", {
      Value: { Ref: logicalId(stack.xapiCredentialKey.secret) },
    });
  });

  it("outputs the URLs an administrator registers in the platform", () => {
    const endpoint = { "Fn::GetAtt": [logicalId(stack.api), "ApiEndpoint"] };
    template.hasOutput("ApiUrl", { Value: endpoint });
    template.hasOutput("LtiLoginUrl", { Value: { "Fn::Join": ["", [endpoint, "/lti/login"]] } });
    template.hasOutput("JwksUrl", { Value: { "Fn::Join": ["", [endpoint, "/.well-known/jwks.json"]] } });
    const urls: Record<string, string> = {
      RegistrationLinksUrl: "/admin/links",
      CanvasConfigUrl: "/lti/canvas.json",
      DeepLinkingUrl: "/lti/deep-link",
      AdminUrl: "/admin",
      TargetLinkUri: "/app",
    };
    for (const [name, path] of Object.entries(urls)) {
      template.hasOutput(name, { Value: { "Fn::Join": ["", [endpoint, path]] } });
    }
  });

  it("tells the redirect URI (/lti/launch) apart from the target link URI (/app)", () => {
    const endpoint = { "Fn::GetAtt": [logicalId(stack.api), "ApiEndpoint"] };
    template.hasOutput("LtiLaunchUrl", {
      Value: { "Fn::Join": ["", [endpoint, "/lti/launch"]] },
      Description: Match.stringLikeRegexp("^Redirect URI"),
    });
    template.hasOutput("TargetLinkUri", { Description: Match.stringLikeRegexp("^Target link URI") });
    const launch = template.findOutputs("LtiLaunchUrl").LtiLaunchUrl as { Description: string };
    expect(launch.Description).not.toMatch(/target link/i);
  });
});

describe("forwarder stream", () => {
  it("uses the key builder's outbox prefix", () => {
    expect(OUTBOX_PK_PREFIX).toBe("OUTBOX#");
  });

  it("reads pending outbox items only, reports partial failures, bisects, retries a bounded number of times", () => {
    template.resourceCountIs("AWS::Lambda::EventSourceMapping", 1);
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionName: { Ref: logicalId(stack.forwarder.fn) },
      EventSourceArn: { "Fn::GetAtt": [logicalId(stack.table.table), "StreamArn"] },
      StartingPosition: "TRIM_HORIZON",
      BatchSize: 50,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      FilterCriteria: {
        Filters: [
          {
            // Its own updates (delivered, parked) do not invoke it again.
            Pattern: Match.serializedJson({
              dynamodb: { NewImage: { pk: { S: [{ prefix: "OUTBOX#" }] }, status: { S: ["pending"] } } },
            }),
          },
        ],
      },
      DestinationConfig: {
        OnFailure: { Destination: { "Fn::GetAtt": [logicalId(stack.forwarderDlq), "Arn"] } },
      },
    });
  });

  it("parks exhausted batches in an encrypted, TLS-only queue", () => {
    template.hasResourceProperties("AWS::SQS::Queue", { SqsManagedSseEnabled: true });
    template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });
});

describe("backlog alarms", () => {
  it("alarm when the forwarder's DLQ holds a message and when the forwarder fails, with no actions yet", () => {
    template.resourceCountIs("AWS::CloudWatch::Alarm", 2);
    const alarms = template.findResources("AWS::CloudWatch::Alarm");
    const dlq = alarms[logicalId(stack.forwarderDlqAlarm)] as Resource;
    expect(dlq.Properties).toMatchObject({
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [
        { Name: "QueueName", Value: { "Fn::GetAtt": [logicalId(stack.forwarderDlq), "QueueName"] } },
      ],
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 0,
      TreatMissingData: "notBreaching",
    });
    const errors = alarms[logicalId(stack.forwarderErrorsAlarm)] as Resource;
    expect(errors.Properties).toMatchObject({
      Namespace: "AWS/Lambda",
      MetricName: "Errors",
      Dimensions: [{ Name: "FunctionName", Value: { Ref: logicalId(stack.forwarder.fn) } }],
      Statistic: "Sum",
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 0,
    });
    for (const alarm of [dlq, errors]) expect(alarm.Properties.AlarmActions).toBeUndefined();
    template.resourceCountIs("AWS::SNS::Topic", 0);
  });
});

describe("IAM", () => {
  it("gives each function exactly the table actions its code calls, and never Scan", () => {
    // The web function, which every launch wakes, deletes nothing; a registration link is
    // removed by the admin function.
    expect(tableActionsOf(stack.web)).toEqual([
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]);
    expect(tableActionsOf(stack.admin)).toEqual([
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]);
    for (const fn of [stack.forwarder, stack.forwarderSweep]) {
      expect(tableActionsOf(fn)).toEqual([
        "dynamodb:BatchWriteItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
      ]);
    }
    expect(tableActionsOf(stack.grades)).toEqual([
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]);
    // Each function can use the table's key for what it grants (writers encrypt too).
    for (const fn of allFunctions()) {
      const text = JSON.stringify(statementsOfRole(roleOf(fn)));
      expect(text).toContain(logicalId(stack.table.encryptionKey));
      expect(actionsOf(statementsOfRole(roleOf(fn)))).toEqual(
        expect.arrayContaining(["kms:Decrypt", "kms:GenerateDataKey*"]),
      );
    }
  });

  it("keeps the tool's private key and secrets out of the functions that never use them", () => {
    expect(TOOL_KEY_PARTITION).toBe("TOOLKEY");
    expect(TOOL_SECRET_PARTITION).toBe("TOOLSECRET");
    for (const fn of [stack.forwarder, stack.forwarderSweep]) {
      expect(deniedPartitionsOf(fn)).toEqual(["TOOLKEY", "TOOLSECRET"]);
    }
    // Grade delivery signs its token requests with the tool's key, so only the secrets are denied.
    expect(deniedPartitionsOf(stack.grades)).toEqual(["TOOLSECRET"]);
    expect(deniedPartitionsOf(stack.web)).toEqual([]);
    expect(deniedPartitionsOf(stack.admin)).toEqual([]);
    // The denial covers every table action the function has.
    for (const fn of [stack.forwarder, stack.forwarderSweep, stack.grades]) {
      const deny = statementsOfRole(roleOf(fn)).find(
        (s) => s.Effect === "Deny" && s.Condition?.["ForAnyValue:StringEquals"] !== undefined,
      );
      expect([...actionsOf(deny ? [deny] : [])].sort()).toEqual(tableActionsOf(fn));
    }
  });

  it("lets the forwarder write outbox items only, and grade delivery update course partitions and put its first key", () => {
    for (const fn of [stack.forwarder, stack.forwarderSweep]) {
      expect(fencesOf(fn)).toMatchObject({
        "dynamodb:BatchWriteItem dynamodb:UpdateItem": ["OUTBOX", "OUTBOX#*"],
      });
    }
    // Per action: the first signing key is its only PutItem (addKey), grade jobs in their
    // course's partition (T#<tenant>#C#<course>) its only UpdateItem.
    expect(fencesOf(stack.grades)).toMatchObject({
      "dynamodb:PutItem": ["TOOLKEY", "TOOLKEY#*"],
      "dynamodb:UpdateItem": ["T", "T#*"],
    });
    // The web function serves every tenant's launches, the admin function registers LMSs and
    // makes links: their writes are not fenced.
    expect(fencesOf(stack.web)).toEqual({});
    expect(fencesOf(stack.admin)).toEqual({});
  });

  it("confines the forwarder's and grade delivery's reads to the partitions their code reads", () => {
    for (const fn of [stack.forwarder, stack.forwarderSweep]) {
      // LRSROUTE#<id>, gsi1 LRSROUTES and gsi1 OUTBOX#<route>#pending (outbox items OUTBOX#<id>).
      expect(fencesOf(fn)).toEqual({
        "dynamodb:GetItem dynamodb:Query": [
          "LRSROUTE",
          "LRSROUTE#*",
          "LRSROUTES",
          "LRSROUTES#*",
          "OUTBOX",
          "OUTBOX#*",
        ],
        "dynamodb:BatchWriteItem dynamodb:UpdateItem": ["OUTBOX", "OUTBOX#*"],
      });
    }
    // gsi1 GRADES#pending, PLATFORM#<issuer>, course partitions T#…, TOOLKEY.
    expect(fencesOf(stack.grades)).toEqual({
      "dynamodb:GetItem dynamodb:Query": [
        "GRADES",
        "GRADES#*",
        "PLATFORM",
        "PLATFORM#*",
        "T",
        "T#*",
        "TOOLKEY",
        "TOOLKEY#*",
      ],
      "dynamodb:PutItem": ["TOOLKEY", "TOOLKEY#*"],
      "dynamodb:UpdateItem": ["T", "T#*"],
    });
    // Every table action each of them holds is fenced, reads and writes alike.
    for (const fn of [stack.forwarder, stack.forwarderSweep, stack.grades]) {
      const fenced = Object.keys(fencesOf(fn)).flatMap((k) => k.split(" "));
      expect(fenced.sort()).toEqual(tableActionsOf(fn));
    }
  });

  it("refuses, as IAM evaluates the policies, what the forwarder and grade delivery never read or write", () => {
    const COURSE = "T#7q2kx3vbn5m4c6d8f0gh2jk4lm#C#a2b3c4d5e6f7g8h9i0j1k2l3m4";
    const decision = (fn: Fn, action: string, keys: string | string[], index = false) =>
      tableDecision(template, stack, fn, {
        action,
        index,
        leadingKeys: Array.isArray(keys) ? keys : [keys],
      });
    for (const fn of [stack.forwarder, stack.forwarderSweep]) {
      // What its code does.
      expect(decision(fn, "GetItem", "LRSROUTE#r1")).toBe("ALLOWED");
      expect(decision(fn, "Query", "LRSROUTES", true)).toBe("ALLOWED");
      expect(decision(fn, "Query", "OUTBOX#r1#pending", true)).toBe("ALLOWED");
      expect(decision(fn, "BatchWriteItem", ["OUTBOX#s1", "OUTBOX#s2"])).toBe("ALLOWED");
      expect(decision(fn, "UpdateItem", "OUTBOX#s1")).toBe("ALLOWED");
      // A course partition: enrolments, the NRPS roster (names, e-mails), grade jobs.
      expect(decision(fn, "Query", COURSE)).toBe("DENIED");
      expect(decision(fn, "GetItem", COURSE)).toBe("DENIED");
      // Cohort listings and the grade queues through gsi1, across tenants.
      expect(decision(fn, "Query", `COHORT#${COURSE}`, true)).toBe("DENIED");
      expect(decision(fn, "Query", "GRADES#parked", true)).toBe("DENIED");
      // Registrations, registration links, used logins, platform keys, xAPI settings.
      expect(decision(fn, "Query", "PLATFORM#https://lms.school.example")).toBe("DENIED");
      expect(decision(fn, "Query", "PLATFORMS", true)).toBe("DENIED");
      expect(decision(fn, "GetItem", "REGLINK#abc")).toBe("DENIED");
      expect(decision(fn, "Query", "REGLINKS", true)).toBe("DENIED");
      expect(decision(fn, "GetItem", "NONCE#https://lms#n-1")).toBe("DENIED");
      expect(decision(fn, "Query", "XAPISETTINGS#https%3A%2F%2Flms#c1")).toBe("DENIED");
      // The key and secrets, and writes outside the outbox.
      expect(decision(fn, "GetItem", "TOOLKEY")).toBe("DENIED");
      expect(decision(fn, "Query", "TOOLSECRET")).toBe("DENIED");
      expect(decision(fn, "UpdateItem", COURSE)).toBe("DENIED");
      expect(decision(fn, "BatchWriteItem", ["OUTBOX#s1", "PLATFORM#https://lms"])).toBe("DENIED");
    }
    const g = stack.grades;
    // What its code does.
    expect(decision(g, "Query", "GRADES#pending", true)).toBe("ALLOWED");
    expect(decision(g, "GetItem", "PLATFORM#https://lms")).toBe("ALLOWED");
    expect(decision(g, "GetItem", COURSE)).toBe("ALLOWED");
    expect(decision(g, "Query", "TOOLKEY")).toBe("ALLOWED");
    expect(decision(g, "UpdateItem", COURSE)).toBe("ALLOWED");
    expect(decision(g, "PutItem", "TOOLKEY")).toBe("ALLOWED");
    // The xAPI outbox, LRS routes, registration links, used logins, the secrets.
    expect(decision(g, "GetItem", "OUTBOX#stmt-1")).toBe("DENIED");
    expect(decision(g, "Query", "OUTBOX#route-1#delivered", true)).toBe("DENIED");
    expect(decision(g, "Query", "LRSROUTES", true)).toBe("DENIED");
    expect(decision(g, "GetItem", "LRSROUTE#route-1")).toBe("DENIED");
    expect(decision(g, "GetItem", "REGLINK#abc")).toBe("DENIED");
    expect(decision(g, "Query", "REGLINKS", true)).toBe("DENIED");
    expect(decision(g, "GetItem", "NONCE#https://lms#n-1")).toBe("DENIED");
    expect(decision(g, "GetItem", "TOOLSECRET")).toBe("DENIED");
    // Writes, per action: no PutItem on a course partition, no UpdateItem on the signing keys.
    expect(decision(g, "PutItem", COURSE)).toBe("DENIED");
    expect(decision(g, "UpdateItem", "TOOLKEY")).toBe("DENIED");
    expect(decision(g, "PutItem", "PLATFORM#https://lms")).toBe("DENIED");
    expect(decision(g, "UpdateItem", "REGLINK#x")).toBe("DENIED");
    // The web and admin functions serve every tenant: they keep their reads and writes everywhere.
    for (const fn of [stack.web, stack.admin])
      for (const [action, key, index] of [
        ["GetItem", COURSE, false],
        ["Query", `COHORT#${COURSE}`, true],
        ["Query", "PLATFORMS", true],
        ["GetItem", "REGLINK#abc", false],
        ["Query", "OUTBOX#route-1#parked", true],
        ["GetItem", "TOOLSECRET", false],
        ["PutItem", COURSE, false],
        ["UpdateItem", "TOOLKEY", false],
      ] as const) {
        expect(decision(fn, action, key, index)).toBe("ALLOWED");
      }
    expect(decision(stack.web, "DeleteItem", "REGLINK#abc")).toBe("DENIED");
    expect(decision(stack.admin, "DeleteItem", "REGLINK#abc")).toBe("ALLOWED");
  });

  it("takes the fences' partitions from the key builders, so a renamed key moves them", () => {
    const course = { issuer: "https://lms", clientId: "c", deploymentId: "d", contextId: "2" };
    expect(entityOf(courseScopeKey(course))).toBe(COURSE_PARTITION);
    expect(courseScopeKey(course).startsWith(`${COURSE_PARTITION}#`)).toBe(true);
    expect(entityOf(keys.gradeJob(courseScopeKey(course), "a", "u").pk)).toBe(COURSE_PARTITION);
    expect(TABLE_ACCESS.forwarder.readablePartitions).toEqual([
      entityOf(keys.lrsRoute("r").pk),
      keys.lrsRouteListing.gsi1pk,
      entityOf(keys.outboxByStatus("r", "pending").gsi1pk),
    ]);
    expect(TABLE_ACCESS.forwarder.writablePartitions).toEqual([entityOf(keys.outboxItem("s", "r").pk)]);
    expect(TABLE_ACCESS.grades.readablePartitions).toEqual([
      entityOf(keys.gradeQueue("pending").gsi1pk),
      entityOf(keys.platform("https://lms", "c").pk),
      COURSE_PARTITION,
      keys.toolKeys.pk,
    ]);
    expect(TABLE_ACCESS.grades.writablePartitionsByAction).toEqual({
      PutItem: [keys.toolKey("k").pk],
      UpdateItem: [COURSE_PARTITION],
    });
  });

  it("classes every table action as a read or a write, so no action escapes the fences", () => {
    const all: TableAction[] = ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"];
    expect([...READ_ACTIONS, ...WRITE_ACTIONS].sort()).toEqual([...all].sort());
    for (const access of Object.values(TABLE_ACCESS) as TableAccess[]) {
      for (const a of access.actions) expect([...READ_ACTIONS, ...WRITE_ACTIONS]).toContain(a);
    }
  });

  it("refuses a fence that names an action the function does not hold, or none at all", () => {
    const scratch = new Stack(new App({ context: { "aws:cdk:bundling-stacks": [] } }), "Scratch");
    const table = new dynamodb.Table(scratch, "T", {
      partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING },
    });
    let n = 0;
    const bind = (access: TableAccess) =>
      new HltaFunction(scratch, `F${n++}`, {
        entry: fileURLToPath(new URL("../../functions/grades/handler.ts", import.meta.url)),
        projectRoot: fileURLToPath(new URL("../../", import.meta.url)),
      }).bindTable(table, access);
    expect(() =>
      bind({ actions: ["GetItem"], deniedPartitions: [], writablePartitionsByAction: { PutItem: ["T"] } }),
    ).toThrow(/PutItem/);
    expect(() =>
      bind({
        actions: ["PutItem", "UpdateItem"],
        deniedPartitions: [],
        writablePartitions: ["T"],
        writablePartitionsByAction: { PutItem: ["TOOLKEY"] },
      }),
    ).toThrow(/outside writablePartitions/);
    expect(() => bind({ actions: ["GetItem"], deniedPartitions: [], readablePartitions: [] })).toThrow(
      /empty fence/,
    );
    expect(() => bind({ actions: ["PutItem"], deniedPartitions: [], readablePartitions: ["T"] })).toThrow(
      /readablePartitions without a read/,
    );
    expect(() =>
      bind({ actions: ["GetItem", "PutItem"], deniedPartitions: [], readablePartitions: ["T"] }),
    ).not.toThrow();
  });

  it("gives each function its own role, with no managed policy: logs to its own group only, and X-Ray", () => {
    const roles = template.findResources("AWS::IAM::Role");
    expect(new Set(allFunctions().map(roleOf)).size).toBe(5);
    // AWSLambdaBasicExecutionRole (logs:CreateLogGroup, CreateLogStream, PutLogEvents on "*")
    // is attached to no role of the stack.
    expect(JSON.stringify(template.toJSON())).not.toContain("AWSLambdaBasicExecutionRole");
    const groups = allFunctions().map((fn) => logicalId(fn.logGroup));
    expect(new Set(groups).size).toBe(5);
    for (const fn of allFunctions()) {
      const role = roles[roleOf(fn)] as Resource;
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.AssumeRolePolicyDocument).toEqual({
        Statement: [
          { Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" } },
        ],
        Version: "2012-10-17",
      });
      const statements = statementsOfRole(roleOf(fn));
      const logs = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith("logs:")));
      const own = logicalId(fn.logGroup);
      expect(logs).toEqual([
        {
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: { "Fn::GetAtt": [own, "Arn"] },
        },
      ]);
      // As IAM evaluates it: its own group, no other function's.
      const evaluated = statementsOf(template, fn);
      for (const group of groups) {
        expect(decide(evaluated, "logs:PutLogEvents", `arn:${group}`)).toBe(
          group === own ? "ALLOWED" : "DENIED",
        );
      }
      expect(decide(evaluated, "logs:CreateLogGroup", "arn:aws:logs:eu-west-2:1:log-group:x:*")).toBe(
        "DENIED",
      );
      // Tracing still reports: X-Ray takes no resource, so "*" (the stream forwarder's statement
      // carries dynamodb:ListStreams beside it).
      for (const action of ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]) {
        expect(decide(evaluated, action, "*")).toBe("ALLOWED");
      }
      // The function is created after its role's policy, so it can log from its first run.
      const dependsOn = (functionResource(fn) as Resource & { DependsOn?: string[] }).DependsOn ?? [];
      const policyIds = Object.entries(template.findResources("AWS::IAM::Policy"))
        .filter(([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleOf(fn) }]))
        .map(([id]) => id);
      expect(dependsOn).toEqual(expect.arrayContaining([roleOf(fn), ...policyIds]));
    }
  });

  it("gives the internet-facing web and admin functions nothing in S3 or the evidence key", () => {
    for (const fn of [stack.web, stack.admin]) {
      const statements = statementsOfRole(roleOf(fn));
      expect(actionsOf(statements).filter((a) => a.startsWith("s3:"))).toEqual([]);
      expect(JSON.stringify(statements)).not.toContain(logicalId(stack.evidence.encryptionKey));
      expect(JSON.stringify(statements)).not.toContain(logicalId(stack.evidence.bucket));
    }
  });

  it("gives the forwarder the table and its stream but nothing in S3 or the evidence key", () => {
    const statements = statementsOfRole(roleOf(stack.forwarder));
    const actions = actionsOf(statements);
    expect(actions).toEqual(
      expect.arrayContaining(["dynamodb:UpdateItem", "dynamodb:GetRecords", "sqs:SendMessage"]),
    );
    expect(actions.filter((a) => a.startsWith("s3:"))).toEqual([]);
    expect(JSON.stringify(statements)).not.toContain(logicalId(stack.evidence.encryptionKey));
    expect(JSON.stringify(statements)).not.toContain(logicalId(stack.evidence.bucket));
  });

  it("gives the sweeps the table (and its key) but nothing in S3, the evidence key or the stream", () => {
    for (const fn of [stack.forwarderSweep, stack.grades]) {
      const statements = statementsOfRole(roleOf(fn));
      const actions = actionsOf(statements);
      expect(actions).toEqual(
        expect.arrayContaining(["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "kms:Decrypt"]),
      );
      expect(actions.filter((a) => a.startsWith("s3:") || a.startsWith("sqs:"))).toEqual([]);
      expect(actions).not.toContain("dynamodb:DescribeStream");
      const text = JSON.stringify(statements);
      expect(text).not.toContain(logicalId(stack.evidence.encryptionKey));
      expect(text).not.toContain(logicalId(stack.evidence.bucket));
      expect(text).toContain(logicalId(stack.table.encryptionKey));
    }
  });

  it("has no wildcard resource except the ones AWS requires (X-Ray, ListStreams), and no managed policy", () => {
    const wildcard = (st: PolicyStatement) =>
      st.Resource === "*" || (Array.isArray(st.Resource) && st.Resource.includes("*"));
    for (const fn of allFunctions()) {
      for (const s of statementsOfRole(roleOf(fn)).filter(wildcard)) {
        for (const action of actionsOf([s])) {
          expect(["xray:PutTelemetryRecords", "xray:PutTraceSegments", "dynamodb:ListStreams"]).toContain(
            action,
          );
        }
      }
      // A managed policy's statements are not in the template: none may hide a wildcard there.
      const role = template.findResources("AWS::IAM::Role")[roleOf(fn)] as Resource;
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe("configuration", () => {
  it("defaults the stage to dev and rejects a stage that cannot name a stack", () => {
    expect(infraConfigFrom({}).stage).toBe("dev");
    expect(infraConfigFrom({ HLTA_STAGE: "prod" }).stage).toBe("prod");
    expect(() => infraConfigFrom({ HLTA_STAGE: "Prod stage" })).toThrow(/HLTA_STAGE/);
  });

  it("pins the region to London unless told another, and refuses one that is not a region", () => {
    expect(infraConfigFrom({}).region).toBe("eu-west-2");
    expect(infraConfigFrom({ HLTA_REGION: "eu-west-1" }).region).toBe("eu-west-1");
    expect(() => infraConfigFrom({ HLTA_REGION: "london" })).toThrow(/HLTA_REGION/);
  });
});
