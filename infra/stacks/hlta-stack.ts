import { fileURLToPath } from "node:url";
import { CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { DynamoEventSource, SqsDlq } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { keys } from "../../adapters/dynamo/table.js";
import { ADMIN_PATHS } from "../api-routes.js";
import { CredentialKeySecret } from "../constructs/credential-key-secret.js";
import { EvidenceBucket } from "../constructs/evidence-bucket.js";
import { HltaFunction } from "../constructs/hlta-function.js";
import { HltaTable } from "../constructs/hlta-table.js";
import { TABLE_ACCESS } from "../table-access.js";

const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The prefix of outbox item keys, taken from the key builder itself so the stream filter and
 * the items it selects cannot drift apart.
 */
export const OUTBOX_PK_PREFIX = keys.outboxItem("", "").pk;

/** The variable that carries the ARN of the secret sealing the LRS credentials (not the key). */
export const XAPI_CREDENTIAL_SECRET_ARN = "XAPI_CREDENTIAL_SECRET_ARN";

/**
 * Requests per second and burst the HTTP API lets through, all clients and routes together (an
 * HTTP API has no per-client limit). A launch is four requests: a provider whose hundred schools'
 * classes of thirty all open the tool within two minutes needs about 100/s, with peaks above.
 * The limit sits well over that, so a surge of real users is never refused, and still bounds a
 * runaway client or a flood (429s from API Gateway instead of Lambda concurrency, which the
 * forwarder shares, and cost). Per-client limits need WAF in front (CloudFront): the hardening
 * issue.
 */
export const API_THROTTLE = { rateLimit: 500, burstLimit: 1000 } as const;

/** How often the scheduled sweeps (xAPI retries and replays, grade delivery) run. */
export const SWEEP_RATE = Duration.minutes(1);

export interface HltaStackProps extends StackProps {
  stage: string;
}

/**
 * Wiring only: the table and evidence bucket, the web function behind an HTTP API, the xAPI
 * forwarder fed by the table's stream, the scheduled sweeps (xAPI forwarder, grades), the
 * secret that seals the LRS credentials, and the alarms on the forwarder's backlog. Construct
 * IDs are a contract: renaming one replaces the resource (and for the table, the bucket and the
 * secret, orphans the retained original).
 */
export class HltaStack extends Stack {
  readonly table: HltaTable;
  readonly evidence: EvidenceBucket;
  readonly web: HltaFunction;
  readonly admin: HltaFunction;
  readonly forwarder: HltaFunction;
  readonly forwarderSweep: HltaFunction;
  readonly grades: HltaFunction;
  readonly forwarderDlq: sqs.Queue;
  readonly xapiCredentialKey: CredentialKeySecret;
  readonly forwarderSweepSchedule: events.Rule;
  readonly gradesSchedule: events.Rule;
  readonly forwarderDlqAlarm: cloudwatch.Alarm;
  readonly forwarderErrorsAlarm: cloudwatch.Alarm;
  readonly api: apigwv2.HttpApi;

  constructor(scope: Construct, id: string, props: HltaStackProps) {
    const { stage, ...stackProps } = props;
    super(scope, id, stackProps);

    this.table = new HltaTable(this, "Data");
    this.evidence = new EvidenceBucket(this, "Evidence");
    this.xapiCredentialKey = new CredentialKeySecret(this, "XapiCredentialKey", {
      description: `HLTA tool (${stage}): key material sealing the LRS credentials (AES key = SHA-256 of it)`,
    });
    const credentialKey = this.xapiCredentialKey.secret;

    // The web function: LTI login and launch, the tool's keys, deep linking and the pages, what
    // every launch wakes. Table actions are the ones its code calls (the launch's transaction is
    // PutItem and UpdateItem item by item); it deletes nothing. No S3 yet: nothing in it reads or
    // writes evidence (the evidence issue grants the few object actions uploads need). No LRS
    // credential key: routes are saved by the CLI (`npm run lrs`), and it never opens them.
    this.web = new HltaFunction(this, "Web", {
      entry: `${PROJECT_ROOT}functions/web/handler.ts`,
      description: `HLTA tool web app: LTI login, launch, JWKS and pages (${stage})`,
      projectRoot: PROJECT_ROOT,
      // The candidate waits for this one's cold start: no source maps to parse (hlta-function.ts).
      sourceMaps: false,
    }).bindTable(this.table.table, TABLE_ACCESS.web);

    // The admin function: the administration pages, registration (dynamic, Canvas JSON) and the
    // xAPI Profile. Its own bundle and role: the web function carries none of its code (a
    // smaller cold start for every launch) and none of its rights (DeleteItem: a registration
    // link removed).
    this.admin = new HltaFunction(this, "Admin", {
      entry: `${PROJECT_ROOT}functions/admin/handler.ts`,
      description: `HLTA tool administration, LTI registration and the xAPI Profile (${stage})`,
      projectRoot: PROJECT_ROOT,
    }).bindTable(this.table.table, TABLE_ACCESS.admin);

    this.api = new apigwv2.HttpApi(this, "Api", {
      description: `HLTA tool (${stage})`,
      // $default: the web function, whose Hono app routes the rest (functions/web/web-app.ts).
      defaultIntegration: new HttpLambdaIntegration("WebIntegration", this.web.fn),
    });
    const adminIntegration = new HttpLambdaIntegration("AdminIntegration", this.admin.fn);
    for (const path of ADMIN_PATHS) {
      this.api.addRoutes({ path, methods: [apigwv2.HttpMethod.ANY], integration: adminIntegration });
    }
    // The L2 default stage takes no throttle: set on its CloudFormation resource. No access
    // logging: the tool carries session tokens in query strings (README, Architecture).
    const defaultStage = this.api.defaultStage?.node.defaultChild as apigwv2.CfnStage;
    defaultStage.defaultRouteSettings = {
      throttlingRateLimit: API_THROTTLE.rateLimit,
      throttlingBurstLimit: API_THROTTLE.burstLimit,
    };

    // The forwarder reads routes and due outbox items and marks entries delivered, rescheduled
    // (BatchWriteItem) or parked (UpdateItem), nothing else; the tool's key and secrets are
    // out of its table calls (not of the stream it reads: infra/README.md, "Limit").
    this.forwarder = new HltaFunction(this, "Forwarder", {
      entry: `${PROJECT_ROOT}functions/forwarder/handler.ts`,
      description: `HLTA tool xAPI forwarder: outbox stream to the LRSs (${stage})`,
      timeout: Duration.seconds(60),
      projectRoot: PROJECT_ROOT,
    })
      .bindTable(this.table.table, TABLE_ACCESS.forwarder)
      .bindSecret(credentialKey, XAPI_CREDENTIAL_SECRET_ARN);

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
        // Only pending outbox items: the forwarder's own updates (delivered, parked) do not
        // invoke it again, while a recorded retry (still pending) does. REMOVE records (TTL
        // deletions) carry no NewImage, so they never match.
        filters: [
          lambda.FilterCriteria.filter({
            dynamodb: {
              NewImage: {
                pk: { S: lambda.FilterRule.beginsWith(OUTBOX_PK_PREFIX) },
                status: { S: lambda.FilterRule.isEqual("pending") },
              },
            },
          }),
        ],
      }),
    );

    // The sweeps run every minute, one at a time: reserved concurrency 1 means two sweeps never
    // claim and send the same due items at once (no duplicate sends). A sweep that overruns
    // makes the next tick wait (throttled); it is dropped after a minute rather than queued for
    // hours, and a failed sweep is not retried: the next tick is the retry. Neither sweep gets
    // the evidence bucket.
    const sweepOptions = {
      timeout: Duration.seconds(60),
      reservedConcurrentExecutions: 1,
      retryAttempts: 0,
      maxEventAge: Duration.minutes(1),
      projectRoot: PROJECT_ROOT,
    };

    // Same entry as the stream forwarder, `sweep` export: long back-offs, replays, an LRS that
    // was down. It opens the LRS credentials, so it reads the key.
    this.forwarderSweep = new HltaFunction(this, "ForwarderSweep", {
      ...sweepOptions,
      entry: `${PROJECT_ROOT}functions/forwarder/handler.ts`,
      handler: "sweep",
      description: `HLTA tool xAPI forwarder sweep: due retries and replays (${stage})`,
    })
      .bindTable(this.table.table, TABLE_ACCESS.forwarder)
      .bindSecret(credentialKey, XAPI_CREDENTIAL_SECRET_ARN);

    // Reads registrations, course services and the tool's signing key (it signs the token
    // requests; PutItem makes the first key if none exists yet); updates grade jobs. The
    // secrets (session, admin key) are out of its reach.
    this.grades = new HltaFunction(this, "Grades", {
      ...sweepOptions,
      entry: `${PROJECT_ROOT}functions/grades/handler.ts`,
      description: `HLTA tool grade delivery: due scores to the LMS gradebooks (${stage})`,
    }).bindTable(this.table.table, TABLE_ACCESS.grades);

    this.forwarderSweepSchedule = new events.Rule(this, "ForwarderSweepSchedule", {
      description: `Runs the HLTA xAPI forwarder sweep every minute (${stage})`,
      schedule: events.Schedule.rate(SWEEP_RATE),
      targets: [new targets.LambdaFunction(this.forwarderSweep.fn)],
    });
    this.gradesSchedule = new events.Rule(this, "GradesSchedule", {
      description: `Runs the HLTA grade delivery every minute (${stage})`,
      schedule: events.Schedule.rate(SWEEP_RATE),
      targets: [new targets.LambdaFunction(this.grades.fn)],
    });

    // "Alarm on a backlog": a batch that exhausted its retries, or a forwarder that throws.
    // No actions yet: an operator wires notification (SNS, chat) to these alarms.
    this.forwarderDlqAlarm = new cloudwatch.Alarm(this, "ForwarderDlqAlarm", {
      alarmDescription: `HLTA xAPI forwarder (${stage}): stream batches gave up and are in the DLQ`,
      metric: this.forwarderDlq.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.forwarderErrorsAlarm = new cloudwatch.Alarm(this, "ForwarderErrorsAlarm", {
      alarmDescription: `HLTA xAPI forwarder (${stage}): invocations failed`,
      metric: this.forwarder.fn.metricErrors({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.SUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // The URLs an administrator enters when registering the tool in Moodle or Canvas.
    const base = this.api.apiEndpoint;
    new CfnOutput(this, "ApiUrl", { value: base, description: "Base URL of the tool" });
    new CfnOutput(this, "LtiLoginUrl", {
      value: `${base}/lti/login`,
      description: "OIDC login initiation URL",
    });
    new CfnOutput(this, "LtiLaunchUrl", {
      value: `${base}/lti/launch`,
      description: "Redirect URI: where the platform posts the id_token",
    });
    new CfnOutput(this, "TargetLinkUri", {
      value: `${base}/app`,
      description: "Target link URI: the tool's landing page after a launch",
    });
    new CfnOutput(this, "DeepLinkingUrl", {
      value: `${base}/lti/deep-link`,
      description: "Target link URI of Deep Linking requests (choosing an activity)",
    });
    new CfnOutput(this, "JwksUrl", {
      value: `${base}/.well-known/jwks.json`,
      description: "Public keyset URL",
    });
    new CfnOutput(this, "RegistrationLinksUrl", {
      value: `${base}/admin/links`,
      description:
        "LTI Dynamic Registration: make one link per LMS here (signed in as the tool administrator); the LMS administrator pastes it as the tool URL",
    });
    new CfnOutput(this, "CanvasConfigUrl", {
      value: `${base}/lti/canvas.json`,
      description: "Canvas developer key: enter as the JSON URL",
    });
    new CfnOutput(this, "AdminUrl", { value: `${base}/admin`, description: "Tool administration" });
    new CfnOutput(this, "TableName", { value: this.table.table.tableName });
    // An address, not the key: `npm run lrs -- … --table` reads the secret by it, as the forwarder does.
    new CfnOutput(this, "XapiCredentialSecretArn", {
      value: this.xapiCredentialKey.secret.secretArn,
      description: "For npm run lrs -- … --table: XAPI_CREDENTIAL_SECRET_ARN",
    });
    new CfnOutput(this, "EvidenceBucketName", { value: this.evidence.bucket.bucketName });
  }
}
