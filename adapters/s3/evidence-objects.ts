import { createHash, randomUUID } from "node:crypto";
import {
  GetObjectCommand,
  ListObjectsCommand,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { type CourseRef, courseId, tenantId } from "../../domain/tenancy.js";

/**
 * Evidence files in S3. Object keys are built from the verified session's tenant and course
 * (never from user input), a pseudonymous user segment and an id the tool makes, so a key names
 * no person (a file's name, which may name a pupil, belongs in the table, not in a key that
 * listings, access logs and inventories show) and one tenant's prefix never contains another's.
 * Later issues add presigned direct uploads.
 */
export function evidencePrefix(course: CourseRef, userId: string): string {
  const user = createHash("sha256").update(userId).digest("base64url").slice(0, 22);
  return `tenants/${tenantId(course)}/courses/${courseId(course)}/users/${user}/`;
}

/** The ids this adapter makes: a UUID, nothing else reaches a key. */
const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Pages a listing reads at most (of 1,000 keys in S3): one person's evidence file holds far fewer. */
const MAX_LIST_PAGES = 10;

export class S3EvidenceObjects {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    /** The bucket's KMS key (unset: the bucket's default encryption applies). */
    private readonly kmsKeyId?: string,
    /** Keys per listing page (S3's own default, 1,000, when unset). */
    private readonly listPageSize?: number,
  ) {}

  /** Stores a file under a new id, encrypted with KMS; the caller keeps its name beside the id. */
  async put(
    course: CourseRef,
    userId: string,
    body: Uint8Array | string,
    contentType: string,
  ): Promise<{ objectId: string; key: string }> {
    const objectId = randomUUID();
    const key = `${evidencePrefix(course, userId)}${objectId}`;
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
    return { objectId, key };
  }

  /** The file, or undefined when there is none with this id (or the id is not one the tool makes). */
  async get(course: CourseRef, userId: string, objectId: string): Promise<Uint8Array | undefined> {
    if (!OBJECT_ID.test(objectId)) return undefined;
    try {
      const out = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: `${evidencePrefix(course, userId)}${objectId}` }),
      );
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  /** The ids of a person's files in a course, every page (bounded). */
  async list(course: CourseRef, userId: string): Promise<string[]> {
    const prefix = evidencePrefix(course, userId);
    const ids: string[] = [];
    // Version 1, paged by the last key seen (Marker): the same in S3, and s3rver answers a
    // truncated version 2 listing with a token it makes with DES, which Node's OpenSSL 3 lacks.
    let after: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const out = await this.s3.send(
        new ListObjectsCommand({
          Bucket: this.bucket,
          Prefix: prefix,
          ...(this.listPageSize ? { MaxKeys: this.listPageSize } : {}),
          ...(after ? { Marker: after } : {}),
        }),
      );
      const keys = (out.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
      for (const key of keys) {
        const id = key.slice(prefix.length);
        if (OBJECT_ID.test(id)) ids.push(id);
      }
      after = keys.at(-1);
      if (!out.IsTruncated || after === undefined) break;
    }
    return ids;
  }
}
