import { createHash } from "node:crypto";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { type CourseRef, courseId, tenantId } from "../../domain/tenancy.js";

/**
 * Evidence files in S3. Object keys are built from the verified session's tenant and course
 * (never from user input) and a pseudonymous user segment, so a key names no person and one
 * tenant's prefix never contains another's. Later issues add presigned direct uploads.
 */
export function evidencePrefix(course: CourseRef, userId: string): string {
  const user = createHash("sha256").update(userId).digest("base64url").slice(0, 22);
  return `tenants/${tenantId(course)}/courses/${courseId(course)}/users/${user}/`;
}

export class S3EvidenceObjects {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    /** The bucket's KMS key (unset: the bucket's default encryption applies). */
    private readonly kmsKeyId?: string,
  ) {}

  async put(course: CourseRef, userId: string, name: string, body: Uint8Array | string, contentType: string) {
    const key = `${evidencePrefix(course, userId)}${encodeURIComponent(name)}`;
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        ServerSideEncryption: "aws:kms",
        ...(this.kmsKeyId ? { SSEKMSKeyId: this.kmsKeyId } : {}),
      }),
    );
    return key;
  }

  async get(course: CourseRef, userId: string, name: string): Promise<Uint8Array> {
    const out = await this.s3.send(
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: `${evidencePrefix(course, userId)}${encodeURIComponent(name)}`,
      }),
    );
    return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
  }

  async list(course: CourseRef, userId: string): Promise<string[]> {
    const prefix = evidencePrefix(course, userId);
    const out = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix }));
    return (out.Contents ?? []).flatMap((o) =>
      o.Key ? [decodeURIComponent(o.Key.slice(prefix.length))] : [],
    );
  }
}
