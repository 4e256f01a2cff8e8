import { createHash } from "node:crypto";

/**
 * Tenancy. A tenant is one LTI deployment of the tool: (platform issuer, client_id,
 * deployment_id). Every record about people or their work is keyed under a tenant and a
 * course (LTI context), so that one school's data can never be read through another's keys.
 */
export interface TenantRef {
  issuer: string;
  clientId: string;
  deploymentId: string;
}

export interface CourseRef extends TenantRef {
  /**
   * LTI `context.id`; launches without a context use `link:` and their resource link id instead,
   * and a context id that begins `link:` or `ctx:` is kept as `ctx:` + the id (`courseKeyOf`).
   */
  contextId: string;
}

/** Stable, opaque, key-safe id of a tenant: 26 chars of base32(sha256(iss, client_id, deployment_id)). */
export function tenantId(t: TenantRef): string {
  return base32(sha256(`${t.issuer}\n${t.clientId}\n${t.deploymentId}`)).slice(0, 26);
}

/** Stable, key-safe id of a course within its tenant. */
export function courseId(c: CourseRef): string {
  return base32(sha256(`${tenantId(c)}\n${c.contextId}`)).slice(0, 26);
}

/** The partition every course-scoped record lives in. */
export function courseScopeKey(c: CourseRef): string {
  return `T#${tenantId(c)}#C#${courseId(c)}`;
}

function sha256(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
function base32(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}
