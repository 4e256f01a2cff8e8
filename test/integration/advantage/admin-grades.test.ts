import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoGradeJobStore } from "../../../adapters/dynamo/grade-jobs.js";
import { enqueueGrades, gradeJob, type Stack, startStack } from "./harness.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const form = (fields: Record<string, string>, s = "") => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({ ...fields, ...(s ? { s } : {}) }).toString(),
  redirect: "manual" as const,
});

describe("parked scores for tool administrators", () => {
  it("lists a parked score with the LMS's answer and sends it again, found by its key among many", async () => {
    const store = new DynamoGradeJobStore(stack.aws.doc, stack.aws.tableName);
    const course = {
      issuer: "https://moodle.test",
      clientId: "c1",
      deploymentId: "1",
      contextId: "course-9",
    };
    // More parked jobs than the page lists (100): replay must not depend on the listing.
    const jobs = Array.from({ length: 105 }, (_, i) =>
      gradeJob(course, {
        userId: `u${i}`,
        activityId: "module-standards",
        scoreMaximum: 100,
        label: "Standards",
        timestamp: "2026-11-23T10:00:00.000Z",
      }),
    );
    for (let i = 0; i < jobs.length; i += 20) await enqueueGrades(stack.aws, ...jobs.slice(i, i + 20));
    for (const job of jobs)
      await store.park(job, {
        reason: "The LMS would not post a score (HTTP 400).",
        status: 400,
        body: '{"error":"unknown user"}',
      });

    const key = Buffer.from(await stack.tool.deps.adminKey()).toString("base64url");
    const login = await fetch(`${stack.tool.url}/admin/login`, form({ key }));
    const token = new URL(login.headers.get("location") ?? "", stack.tool.url).searchParams.get("s") ?? "";
    const page = await (await fetch(`${stack.tool.url}/admin/grades?s=${encodeURIComponent(token)}`)).text();
    expect(page).toContain("unknown user");

    const last = jobs[104];
    if (!last) throw new Error("no job");
    const job = JSON.stringify({
      course,
      activityId: last.activityId,
      userId: last.userId,
      jobId: last.jobId,
    });
    const replay = await fetch(
      `${stack.tool.url}/admin/grades/replay?s=${encodeURIComponent(token)}`,
      form({ job }),
    );
    expect(replay.status).toBe(303);
    expect((await store.get(course, last.activityId, last.userId))?.status).toBe("pending");
    // Another tenant's course with the same context id is not touched.
    const other = { ...course, issuer: "https://other.test" };
    const foreign = JSON.stringify({
      course: other,
      activityId: last.activityId,
      userId: "u3",
      jobId: jobs[3]?.jobId,
    });
    await fetch(
      `${stack.tool.url}/admin/grades/replay?s=${encodeURIComponent(token)}`,
      form({ job: foreign }),
    );
    expect((await store.get(course, "module-standards", "u3"))?.status).toBe("parked");

    // A hand-edited form with ids too long for a DynamoDB key: a 400 in plain words, not a 500.
    for (const edit of [{ activityId: "a".repeat(2100) }, { userId: "😀".repeat(200) }]) {
      const tooLong = JSON.stringify({
        course,
        activityId: last.activityId,
        userId: last.userId,
        jobId: last.jobId,
        ...edit,
      });
      const res = await fetch(
        `${stack.tool.url}/admin/grades/replay?s=${encodeURIComponent(token)}`,
        form({ job: tooLong }),
      );
      expect(res.status).toBe(400);
    }
  });
});
