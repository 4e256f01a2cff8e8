import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CfnResource } from "aws-cdk-lib";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { tableDefinition } from "../../adapters/dynamo/schema.js";
import { infraConfigFrom } from "../../infra/config.js";
import { HltaStack, OUTBOX_PK_PREFIX } from "../../infra/stacks/hlta-stack.js";

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

function theTable(): Resource {
  const tables = Object.values(template.findResources("AWS::DynamoDB::Table")) as Resource[];
  expect(tables).toHaveLength(1);
  return tables[0] as Resource;
}

beforeAll(() => {
  // Bundles both functions with the local esbuild: a few seconds.
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
  it("are Node.js 22 on arm64 with tracing, source maps and their own log group", () => {
    template.resourceCountIs("AWS::Lambda::Function", 2);
    template.allResourcesProperties("AWS::Lambda::Function", {
      Runtime: "nodejs22.x",
      Architectures: ["arm64"],
      MemorySize: 512,
      TracingConfig: { Mode: "Active" },
      Environment: { Variables: Match.objectLike({ NODE_OPTIONS: "--enable-source-maps" }) },
      LoggingConfig: { LogGroup: { Ref: Match.anyValue() } },
    });
    template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: 30 });
  });

  it("tell the code where the table and the bucket are, and nothing more", () => {
    const functions = template.findResources("AWS::Lambda::Function");
    const environmentOf = (fn: HltaStack["web"]) =>
      (functions[logicalId(fn.fn)] as Resource).Properties.Environment as {
        Variables: Record<string, unknown>;
      };
    const table = { Ref: logicalId(stack.table.table) };
    expect(environmentOf(stack.web).Variables).toEqual({
      NODE_OPTIONS: "--enable-source-maps",
      TABLE_NAME: table,
      EVIDENCE_BUCKET: { Ref: logicalId(stack.evidence.bucket) },
    });
    expect(environmentOf(stack.forwarder).Variables).toEqual({
      NODE_OPTIONS: "--enable-source-maps",
      TABLE_NAME: table,
    });
  });

  it("are ESM bundles with a require shim and the AWS SDK left to the runtime", () => {
    const assembly = app.synth();
    for (const fn of [stack.web.fn, stack.forwarder.fn]) {
      const resource = template.findResources("AWS::Lambda::Function")[logicalId(fn)] as Resource;
      const s3Key = (resource.Properties.Code as { S3Key: string }).S3Key;
      const bundle = readFileSync(
        join(assembly.directory, `asset.${s3Key.replace(/\.zip$/, "")}`, "index.mjs"),
        "utf8",
      );
      expect(bundle.startsWith("import { createRequire as __hltaCreateRequire }")).toBe(true);
      expect(bundle).toMatch(/from\s*"@aws-sdk\/client-dynamodb"/);
    }
  });
});

describe("HTTP API", () => {
  it("sends every route to the web function", () => {
    template.resourceCountIs("AWS::ApiGatewayV2::Api", 1);
    template.hasResourceProperties("AWS::ApiGatewayV2::Api", { ProtocolType: "HTTP" });
    template.hasResourceProperties("AWS::ApiGatewayV2::Route", { RouteKey: "$default" });
    template.hasResourceProperties("AWS::ApiGatewayV2::Integration", {
      IntegrationType: "AWS_PROXY",
      PayloadFormatVersion: "2.0",
      IntegrationUri: { "Fn::GetAtt": [logicalId(stack.web.fn), "Arn"] },
    });
  });

  it("outputs the URLs an administrator registers in the platform", () => {
    const endpoint = { "Fn::GetAtt": [logicalId(stack.api), "ApiEndpoint"] };
    template.hasOutput("ApiUrl", { Value: endpoint });
    template.hasOutput("LtiLoginUrl", { Value: { "Fn::Join": ["", [endpoint, "/lti/login"]] } });
    template.hasOutput("LtiLaunchUrl", { Value: { "Fn::Join": ["", [endpoint, "/lti/launch"]] } });
    template.hasOutput("JwksUrl", { Value: { "Fn::Join": ["", [endpoint, "/.well-known/jwks.json"]] } });
  });
});

describe("forwarder stream", () => {
  it("uses the key builder's outbox prefix", () => {
    expect(OUTBOX_PK_PREFIX).toBe("OUTBOX#");
  });

  it("reads outbox items only, reports partial failures, bisects, retries a bounded number of times", () => {
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
            Pattern: Match.serializedJson({ dynamodb: { NewImage: { pk: { S: [{ prefix: "OUTBOX#" }] } } } }),
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

describe("IAM", () => {
  const roleOf = (fn: HltaStack["web"]) =>
    logicalId(fn.fn.role as unknown as { node: { defaultChild?: unknown } });

  it("lets the web function read and write the table and the evidence bucket", () => {
    const actions = actionsOf(statementsOfRole(roleOf(stack.web)));
    expect(actions).toEqual(
      expect.arrayContaining([
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:DeleteItem",
        "s3:GetObject*",
        "s3:PutObject",
        "kms:Decrypt",
        "kms:GenerateDataKey*",
      ]),
    );
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

  it("has no wildcard resource except the ones AWS requires (X-Ray, ListStreams)", () => {
    for (const fn of [stack.web, stack.forwarder]) {
      for (const s of statementsOfRole(roleOf(fn)).filter((st) => st.Resource === "*")) {
        for (const action of actionsOf([s])) {
          expect(["xray:PutTelemetryRecords", "xray:PutTraceSegments", "dynamodb:ListStreams"]).toContain(
            action,
          );
        }
      }
    }
  });
});

describe("configuration", () => {
  it("defaults the stage to dev and rejects a stage that cannot name a stack", () => {
    expect(infraConfigFrom({}).stage).toBe("dev");
    expect(infraConfigFrom({ HLTA_STAGE: "prod" }).stage).toBe("prod");
    expect(() => infraConfigFrom({ HLTA_STAGE: "Prod stage" })).toThrow(/HLTA_STAGE/);
  });
});
