import { describe, expect, it } from "vitest";
import { keys } from "../../../adapters/dynamo/table.js";
import { type CourseRef, courseScopeKey, tenantId } from "../../../domain/tenancy.js";

describe("keys with escaped parts", () => {
  it("keeps a real tenant's xAPI settings key readable, as it was", () => {
    expect(keys.xapiSettings("https://moodle.school.uk", "client#1").pk).toBe(
      "XAPISETTINGS#https%3A%2F%2Fmoodle.school.uk#client%231",
    );
  });

  it("fits a partition key however long the issuer and client id the schemas allow", () => {
    // 1,024 bytes of issuer and 400 of client id, each tripled by escaping if kept as they are.
    const issuer = `https://lms.example/${"/".repeat(1004)}`;
    const pk = keys.xapiSettings(issuer, "é".repeat(200)).pk;
    expect(Buffer.byteLength(pk, "utf8")).toBeLessThanOrEqual(2048);
    // Still one key per tenant: another issuer gets another key.
    expect(keys.xapiSettings(`${issuer}x`, "é".repeat(200)).pk).not.toBe(pk);
  });

  it("keeps a client id from posing as another client's deployment, and plain ids as they were", () => {
    const issuer = "https://canvas.instructure.com";
    expect(keys.platform(issuer, "A#DEPLOYMENT#1").sk).not.toBe(keys.deployment(issuer, "A", "1").sk);
    expect(keys.deployment(issuer, "A", "1#X").sk).not.toBe(
      keys.deployment(issuer, "A#DEPLOYMENT#1", "X").sk,
    );
    // Real ids (Canvas's "123:abc…", Moodle's numbers) keep the keys they had.
    expect(keys.platform(issuer, "10000000000001").sk).toBe("CLIENT#10000000000001");
    expect(keys.deployment(issuer, "10000000000001", "123:abc").sk).toBe(
      "CLIENT#10000000000001#DEPLOYMENT#123:abc",
    );
    expect(keys.deployment(issuer, "A", "50%").sk).toBe("CLIENT#A#DEPLOYMENT#50%25");
  });

  it("keeps a client and a deployment id full of escaped characters within a sort key", () => {
    // 200 '%' each pass the 400-byte bound on ids; escaped as they are they would triple.
    const sk = keys.deployment("https://lms.test", "%".repeat(200), "#".repeat(200)).sk;
    expect(Buffer.byteLength(sk, "utf8")).toBeLessThanOrEqual(1024);
    expect(keys.deployment("https://lms.test", "%".repeat(200), "#".repeat(199)).sk).not.toBe(sk);
    // A raw id shaped like a hashed one stays apart from it.
    const hashed = sk.split("#DEPLOYMENT#")[1] ?? "";
    expect(hashed).toMatch(/^%h:/);
    expect(keys.deployment("https://lms.test", "%".repeat(200), hashed.slice(1)).sk).not.toBe(sk);
  });
});

describe("course-scoped keys: one school's records never under another's key", () => {
  const course: CourseRef = {
    issuer: "https://moodle.school.test",
    clientId: "client-abc",
    deploymentId: "1",
    contextId: "course-1",
  };

  it("gives two courses of one tenant different partitions, so a record of one is not read from the other", () => {
    const other = { ...course, contextId: "course-2" };
    expect(courseScopeKey(other)).not.toBe(courseScopeKey(course));
    expect(keys.enrolment(courseScopeKey(other), "user-1").pk).not.toBe(
      keys.enrolment(courseScopeKey(course), "user-1").pk,
    );
    expect(keys.enrolments(courseScopeKey(other)).pk).not.toBe(keys.enrolments(courseScopeKey(course)).pk);
  });

  it("gives two tenants with the same course (context) id different course keys", () => {
    for (const other of [
      { ...course, issuer: "https://canvas.school.test" },
      { ...course, clientId: "client-xyz" },
      { ...course, deploymentId: "2" },
    ]) {
      expect(courseScopeKey(other)).not.toBe(courseScopeKey(course));
    }
  });

  it("keeps tenants apart whose issuer, client id and deployment id run into one another", () => {
    const a = { issuer: "https://lms.test", clientId: "client-1", deploymentId: "23" };
    const b = { issuer: "https://lms.test", clientId: "client-12", deploymentId: "3" };
    const c = { issuer: "https://lms.test/client-1", clientId: "2", deploymentId: "3" };
    expect(new Set([tenantId(a), tenantId(b), tenantId(c)]).size).toBe(3);
    const scopes = [a, b, c].map((t) => courseScopeKey({ ...t, contextId: course.contextId }));
    expect(new Set(scopes).size).toBe(3);
  });
});
