import { CreateBucketCommand, HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";

export interface S3Config {
  /** Set for the local S3 (s3rver); unset in AWS. */
  endpoint?: string;
  region?: string;
}

export function createS3Client(config: S3Config = {}): S3Client {
  return new S3Client({
    region: config.region ?? "eu-west-2",
    ...(config.endpoint
      ? {
          endpoint: config.endpoint,
          forcePathStyle: true, // s3rver serves path-style only (stack.md)
          credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
        }
      : {}),
  });
}

/** Local only: create the evidence bucket if it is missing (in AWS, CDK owns the bucket). */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<"created" | "exists"> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return "exists";
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return "created";
  }
}
