import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as kms from "aws-cdk-lib/aws-kms";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";

export interface EvidenceBucketProps {
  /** Default RETAIN: candidates' evidence must survive a stack deletion. */
  removalPolicy?: RemovalPolicy;
}

/**
 * Private bucket for candidates' evidence files: no public access, TLS only, encrypted with a
 * customer-managed KMS key (rotated yearly), versioned so an overwrite or delete can be undone,
 * ACLs disabled (the bucket owner owns every object).
 *
 * CORS (for presigned browser uploads) and the retention rules for old versions are left for
 * the evidence-upload issue, where the allowed origins and the retention period are decided.
 */
export class EvidenceBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly encryptionKey: kms.Key;

  constructor(scope: Construct, id: string, props: EvidenceBucketProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.encryptionKey = new kms.Key(this, "Key", {
      description: "Encrypts the HLTA evidence bucket",
      enableKeyRotation: true,
      removalPolicy,
    });

    this.bucket = new s3.Bucket(this, "Bucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      // An S3 Bucket Key cuts the KMS requests (and their cost) for every object read and write.
      bucketKeyEnabled: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: "abort-incomplete-uploads", abortIncompleteMultipartUploadAfter: Duration.days(7) },
        // Versioning keeps a deleted or replaced file recoverable for a month (a slip, a bad
        // upload), then it is gone: an erasure request is met within the month UK GDPR allows,
        // and nothing a candidate removed is kept for ever.
        { id: "expire-noncurrent-versions", noncurrentVersionExpiration: Duration.days(30) },
      ],
      removalPolicy,
    });
  }
}
