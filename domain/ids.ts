import { createHash } from "node:crypto";
import { type CourseRef, courseId, tenantId } from "./tenancy.js";

/** RFC 4122 §4.3 name-based UUID, version 5 (SHA-1). */
export function uuidv5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  if (ns.length !== 16) throw new Error(`not a UUID namespace: ${namespace}`);
  const hash = createHash("sha1").update(ns).update(name, "utf8").digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Our namespace for every name-based id the product derives (statement ids, registrations). */
export const HLTA_NAMESPACE = "3f0d8c52-7a51-5b6e-9c1f-1f4e3b8a2d10";

/** xAPI registration: one per candidate enrolment, the same on every launch, no read needed. */
export function enrolmentRegistration(course: CourseRef, userId: string): string {
  return uuidv5(`registration\n${tenantId(course)}\n${courseId(course)}\n${userId}`, HLTA_NAMESPACE);
}
