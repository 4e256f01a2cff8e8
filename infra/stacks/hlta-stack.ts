import { fileURLToPath } from "node:url";
import { CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { DynamoEventSource, SqsDlq } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { keys } from "../../adapters/dynamo/table.js";
import { EvidenceBucket } from "../constructs/evidence-bucket.js";
import { HltaFunction } from "../constructs/hlta-function.js";
import { HltaTable } from "../constructs/hlta-table.js";

const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The prefix of outbox item keys, taken from the key builder itself so the stream filter and
 * the items it selects cannot drift apart.
 */
export const OUTBOX_PK_PREFIX = keys.outboxItem("", "").pk;

export interface HltaStackProps extends StackProps {
  stage: string;
}

/**
 * Wiring only: the table and evidence bucket, the web function behind an HTTP API, and the xAPI
 * forwarder fed by the table's stream. Construct IDs are a contract: renaming one replaces the
 * resource (and for the table and bucket, orphans the retained original).
 */
export class HltaStack extends Stack {
  readonly table: HltaTable;
  readonly evidence: EvidenceBucket;
  readonly web: HltaFunction;
  readonly forwarder: HltaFunction;
  readonly forwarderDlq: sqs.Queue;
  readonly api: apigwv2.HttpApi;

  constructor(scope: Construct, id: string, props: HltaStackProps) {
    const { stage, ...stackProps } = props;
    super(scope, id, stackProps);

    this.table = new HltaTable(this, "Data");
    this.evidence = new EvidenceBucket(this, "Evidence");

    this.web = new HltaFunction(this, "Web", {
      entry: `${PROJECT_ROOT}functions/web/handler.ts`,
      description: `HLTA tool web app: LTI login, launch, JWKS and pages (${stage})`,
      projectRoot: PROJECT_ROOT,
    })
      .bindTable(this.table.table, "readWrite")
      .bindBucket(this.evidence.bucket, "readWrite");

    this.api = new apigwv2.HttpApi(this, "Api", {
      description: `HLTA tool (${stage})`,
      // One $default route: the Hono app does the routing (functions/web/app.tsx).
      defaultIntegration: new HttpLambdaIntegration("WebIntegration", this.web.fn),
    });

    // The forwarder marks outbox entries delivered or parked in the table, nothing else.
    this.forwarder = new HltaFunction(this, "Forwarder", {
      entry: `${PROJECT_ROOT}functions/forwarder/handler.ts`,
      description: `HLTA tool xAPI forwarder: outbox stream to the LRSs (${stage})`,
      timeout: Duration.seconds(60),
      projectRoot: PROJECT_ROOT,
    }).bindTable(this.table.table, "readWrite");

    // Receives the metadata (shard, sequence numbers) of batches that exhausted their retries,
    // not the records: they stay in the table as pending outbox items.
    this.forwarderDlq = new sqs.Queue(this, "ForwarderDlq", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.forwarder.fn.addEventSource(
      new DynamoEventSource(this.table.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 50,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: 10,
        onFailure: new SqsDlq(this.forwarderDlq),
        // Only outbox items. REMOVE records (TTL deletions) carry no NewImage, so they never match.
        filters: [
          lambda.FilterCriteria.filter({
            dynamodb: { NewImage: { pk: { S: lambda.FilterRule.beginsWith(OUTBOX_PK_PREFIX) } } },
          }),
        ],
      }),
    );

    // The URLs an administrator enters when registering the tool in Moodle or Canvas.
    const base = this.api.apiEndpoint;
    new CfnOutput(this, "ApiUrl", { value: base, description: "Base URL of the tool" });
    new CfnOutput(this, "LtiLoginUrl", {
      value: `${base}/lti/login`,
      description: "OIDC login initiation URL",
    });
    new CfnOutput(this, "LtiLaunchUrl", {
      value: `${base}/lti/launch`,
      description: "Target link URI and redirect URI",
    });
    new CfnOutput(this, "JwksUrl", {
      value: `${base}/.well-known/jwks.json`,
      description: "Public keyset URL",
    });
    new CfnOutput(this, "TableName", { value: this.table.table.tableName });
    new CfnOutput(this, "EvidenceBucketName", { value: this.evidence.bucket.bucketName });
  }
}
