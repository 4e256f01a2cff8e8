import { RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as kms from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { TABLE_KEYS } from "../../adapters/dynamo/table.js";

export interface HltaTableProps {
  /** Default RETAIN: the table holds registrations, enrolments and candidates' work. */
  removalPolicy?: RemovalPolicy;
}

/**
 * The tool's single DynamoDB table (docs/architecture.md, "Data model"). Key names come from
 * `adapters/dynamo/table.ts`, and test/infra checks this definition against `tableDefinition()`
 * in `adapters/dynamo/schema.ts`, which creates the same table locally: the two cannot drift.
 *
 * Encryption: a customer-managed KMS key (with yearly rotation) rather than the AWS-managed
 * `aws/dynamodb` key. The table holds personal data and, in the skeleton, the tool's signing
 * key; with our own key the key policy is a second gate on who can read it, every use shows in
 * CloudTrail under a key we own, and disabling the key makes the table and its backups
 * unreadable. Cost: $1 a month plus requests (DynamoDB caches data keys, so few).
 */
export class HltaTable extends Construct {
  readonly table: dynamodb.Table;
  readonly encryptionKey: kms.Key;

  constructor(scope: Construct, id: string, props: HltaTableProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.encryptionKey = new kms.Key(this, "Key", {
      description: "Encrypts the HLTA tool table, its stream and backups",
      enableKeyRotation: true,
      removalPolicy,
    });

    this.table = new dynamodb.Table(this, "Table", {
      partitionKey: { name: TABLE_KEYS.pk, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sk, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Epoch seconds. DynamoDB deletes expired items late; readers ignore them (isExpired).
      timeToLiveAttribute: TABLE_KEYS.ttl,
      // NEW_IMAGE feeds the xAPI forwarder (outbox items); old images are never needed.
      stream: dynamodb.StreamViewType.NEW_IMAGE,
      removalPolicy,
      // A retained table cannot be deleted by a console or CLI slip either.
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
    });

    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_KEYS.gsi1,
      partitionKey: { name: TABLE_KEYS.gsi1pk, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.gsi1sk, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}
