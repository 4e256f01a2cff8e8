/**
 * Assignment and Grade Services over real HTTP: after a candidate's launch (which tells the
 * tool the course's AGS endpoints), a grade job is delivered to the development platform:
 * the client-credentials token, the line item found or created by `resourceId`, the score
 * JSON at `{lineitem}/scores` (path before the query string), retries on 429/5xx (now and on
 * a later run), and parking of what the platform refuses for good.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoGradeJobStore } from "../../../adapters/dynamo/grade-jobs.js";
import { launch, MEDIA_TYPE, SCOPE } from "../../../dev/platform/index.js";
import { type Activity, findActivity } from "../../../domain/activities.js";
import type { CourseRef } from "../../../domain/tenancy.js";
import { gradeDeliveryDeps } from "../../../functions/grades/deps.js";
import { deliverDueGrades, type GradeJob } from "../../../lti-tool/advantage/grades.js";
import {
  enqueueGrades,
  followToApp,
  gradeJob,
  type Stack,
  startPlatform,
  startStack,
  toolKids,
} from "./harness.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

function activity(id: string): Activity & { grading: NonNullable<Activity["grading"]> } {
  const found = findActivity(id);
  if (!found?.grading) throw new Error(`No graded activity ${id} in the catalogue.`);
  return { ...found, grading: found.grading };
}

/** A fresh platform (its own issuer, so its own tenant) where the candidate has launched. */
async function courseAfterLaunch(options: { user?: string } = {}) {
  const platform = await startPlatform(stack);
  const launched = await launch({
    platformUrl: platform.url,
    course: "2",
    user: options.user ?? "candidate",
  });
  expect(launched.status).toBe(303);
  const course: CourseRef = {
    issuer: platform.url,
    clientId: platform.platform.tool.clientId,
    deploymentId: platform.platform.tool.deploymentId,
    contextId: "2",
  };
  const userId = (username: string) => platform.platform.directory.user(username)?.id ?? "";
  return { platform, course, userId };
}

const deliveryDeps = () =>
  gradeDeliveryDeps(stack.aws.doc, stack.aws.tableName, stack.tool.deps.signer, { backoffMs: 10 });
const jobs = () => new DynamoGradeJobStore(stack.aws.doc, stack.aws.tableName);

/** `{lineitem}/scores` with `/scores` in the path and the line item's query kept after it (AGS §3.4). */
function scoresUrlOf(lineItemUrl: string): string {
  const url = new URL(lineItemUrl);
  url.pathname = `${url.pathname}/scores`;
  return url.toString();
}

function scoreOf(job: GradeJob) {
  return {
    userId: job.userId,
    scoreGiven: job.scoreGiven,
    scoreMaximum: job.scoreMaximum,
    activityProgress: job.activityProgress,
    gradingProgress: job.gradingProgress,
    timestamp: job.timestamp,
  };
}

describe("grades to the development platform's gradebook (AGS)", () => {
  it("posts exactly the score JSON, as a score, to {lineitem}/scores before the query, on a line item created for the activity", async () => {
    const { platform, course, userId } = await courseAfterLaunch();
    try {
      const module = activity("module-standards");
      const job = gradeJob(course, {
        userId: userId("candidate"),
        activityId: module.id,
        scoreGiven: 80,
        scoreMaximum: module.grading.scoreMaximum,
        label: module.grading.label,
        timestamp: new Date(Date.now() - 60_000).toISOString(),
      });
      await enqueueGrades(stack.aws, job);

      const report = await deliverDueGrades(deliveryDeps(), 50);
      expect(report).toEqual({ delivered: 1, retried: 0, parked: 0 });

      // The line item: created once, for our activity.
      const items = platform.platform.lineItems("2").filter((i) => i.resourceId === module.id);
      expect(items).toHaveLength(1);
      const item = items[0];
      expect(item).toMatchObject({
        label: module.grading.label,
        scoreMaximum: module.grading.scoreMaximum,
        resourceId: module.id,
        tool: platform.platform.tool.clientId,
      });
      const created = platform.platform
        .serviceCalls()
        .filter((c) => c.method === "POST" && new URL(c.url).pathname.endsWith("/lineitems"));
      expect(created).toHaveLength(1);
      expect(created[0]?.headers["content-type"]).toBe(MEDIA_TYPE.lineItem);

      // The score: exactly these fields, as the score media type, at {lineitem}/scores?type_id=N.
      const scores = platform.platform.scores();
      expect(scores).toHaveLength(1);
      const score = scores[0];
      expect(score?.contentType).toBe(MEDIA_TYPE.score);
      expect(score?.url).toBe(scoresUrlOf(item?.url ?? ""));
      expect(new URL(score?.url ?? "").search).toBe(`?type_id=${course.deploymentId}`);
      expect(JSON.parse(score?.body ?? "")).toStrictEqual(scoreOf(job));
      expect(score?.status).toBe(200);
      expect(score?.applied).toBe(true);

      const cell = platform.platform.gradebook("2").find((g) => g.userId === job.userId);
      expect(cell).toMatchObject({
        grade: 80,
        activityProgress: "Completed",
        gradingProgress: "FullyGraded",
      });
      expect(await jobs().parked()).toEqual([]);
    } finally {
      await platform.stop();
    }
  });

  it("signs the token request's client assertion per the Security Framework and reuses the token per scope set", async () => {
    const { platform, course, userId } = await courseAfterLaunch();
    try {
      const module = activity("module-assessment");
      const at = Date.now() - 120_000;
      const first = gradeJob(course, {
        userId: userId("candidate"),
        activityId: module.id,
        scoreGiven: 40,
        scoreMaximum: module.grading.scoreMaximum,
        label: module.grading.label,
        timestamp: new Date(at).toISOString(),
      });
      const deps = deliveryDeps(); // one delivery process: one token cache
      await enqueueGrades(stack.aws, first);
      expect(await deliverDueGrades(deps, 50)).toEqual({ delivered: 1, retried: 0, parked: 0 });
      const tokensAfterFirst = platform.platform.tokenRequests().length;

      // A second score for the same activity: the line item is found, not duplicated, and no
      // new token is asked for.
      const second = gradeJob(course, {
        ...first,
        scoreGiven: 90,
        timestamp: new Date(at + 60_000).toISOString(),
      });
      await enqueueGrades(stack.aws, second);
      expect(await deliverDueGrades(deps, 50)).toEqual({ delivered: 1, retried: 0, parked: 0 });
      expect(platform.platform.lineItems("2").filter((i) => i.resourceId === module.id)).toHaveLength(1);
      expect(platform.platform.scores().map((s) => JSON.parse(s.body))).toStrictEqual([
        scoreOf(first),
        scoreOf(second),
      ]);

      const requests = platform.platform.tokenRequests();
      expect(requests).toHaveLength(tokensAfterFirst);
      // One request per scope set, each asked once.
      const scopeSets = requests.map((r) => (r.params.scope ?? "").split(" ").sort().join(" "));
      expect(new Set(scopeSets).size).toBe(scopeSets.length);
      // Between them, what the delivery needs: line items and scores.
      const asked = new Set(scopeSets.flatMap((s) => s.split(" ")));
      expect(asked.has(SCOPE.score)).toBe(true);
      expect(asked.has(SCOPE.lineItem) || asked.has(SCOPE.lineItemReadOnly)).toBe(true);

      const kids = await toolKids(stack.tool);
      const clientId = platform.platform.tool.clientId;
      for (const r of requests) {
        expect(r.status).toBe(200);
        expect(r.contentType?.split(";")[0]).toBe("application/x-www-form-urlencoded");
        expect(r.params.grant_type).toBe("client_credentials");
        expect(r.params.client_assertion_type).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        expect(r.assertionHeader?.alg).toBe("RS256");
        expect(kids).toContain(r.assertionHeader?.kid);
        const claims = r.assertionClaims ?? {};
        expect(claims.iss).toBe(clientId);
        expect(claims.sub).toBe(clientId);
        expect(claims.aud).toBe(platform.platform.urls.token);
        expect(typeof claims.jti).toBe("string");
        expect(String(claims.jti)).not.toBe("");
        expect(typeof claims.iat).toBe("number");
        expect(typeof claims.exp).toBe("number");
        expect(Number(claims.exp)).toBeGreaterThan(Number(claims.iat));
        expect(Number(claims.exp) - Number(claims.iat)).toBeLessThanOrEqual(300);
        // Only scopes the platform grants this tool are asked for: everything asked is granted.
        expect([...r.grantedScopes].sort()).toEqual((r.params.scope ?? "").split(" ").sort());
      }
      expect(new Set(requests.map((r) => r.assertionClaims?.jti)).size).toBe(requests.length);
    } finally {
      await platform.stop();
    }
  });

  it.each([
    { status: 503 as const, on: "services" as const },
    { status: 429 as const, on: "token" as const },
  ])(
    "retries a $status from the platform's $on endpoint and delivers the score, parking nothing",
    async ({ status, on }) => {
      const { platform, course, userId } = await courseAfterLaunch();
      try {
        const module = activity("module-evidence");
        const job = gradeJob(course, {
          userId: userId("candidate"),
          activityId: module.id,
          scoreGiven: 100,
          scoreMaximum: module.grading.scoreMaximum,
          label: module.grading.label,
          timestamp: new Date().toISOString(),
        });
        await enqueueGrades(stack.aws, job);
        platform.platform.faults.fail(2, { status, retryAfterSeconds: 1, on });

        const report = await deliverDueGrades(deliveryDeps(), 50);

        expect(platform.platform.faults.injected().map((f) => f.status)).toEqual([status, status]);
        expect(platform.platform.faults.pending).toBe(0);
        expect(report).toEqual({ delivered: 1, retried: 0, parked: 0 });
        const accepted = platform.platform.scores().filter((s) => s.status === 200);
        expect(accepted.map((s) => JSON.parse(s.body))).toStrictEqual([scoreOf(job)]);
        expect(await jobs().parked()).toEqual([]);
        expect(await jobs().due(new Date(Date.now() + 24 * 3600_000), 50)).toEqual([]);
      } finally {
        platform.platform.faults.clear();
        await platform.stop();
      }
    },
  );

  it("keeps a score the platform cannot take now, and delivers it on a later run", async () => {
    const { platform, course, userId } = await courseAfterLaunch();
    try {
      const module = activity("module-written-tasks");
      const job = gradeJob(course, {
        userId: userId("candidate"),
        activityId: module.id,
        scoreGiven: 70,
        scoreMaximum: module.grading.scoreMaximum,
        label: module.grading.label,
        timestamp: new Date().toISOString(),
      });
      await enqueueGrades(stack.aws, job);
      // The LMS is down for longer than one run's attempts.
      platform.platform.faults.fail(1000, { status: 503, retryAfterSeconds: 0, on: "services" });
      const deps = deliveryDeps();
      const down = await deliverDueGrades(deps, 50);
      platform.platform.faults.clear();

      expect(down).toEqual({ delivered: 0, retried: 1, parked: 0 });
      expect(platform.platform.faults.injected().length).toBeGreaterThan(0);
      expect(platform.platform.scores().filter((s) => s.status === 200)).toHaveLength(0);
      const later = new Date(Date.now() + 24 * 3600_000);
      const waiting = (await jobs().due(later, 50)).filter((j) => j.jobId === job.jobId);
      expect(waiting).toHaveLength(1);
      expect(waiting[0]).toMatchObject({ status: "pending", attempts: 1, lastError: { status: 503 } });
      expect(await jobs().parked()).toEqual([]);

      // The next run, once the job is due again: delivered.
      const up = await deliverDueGrades({ ...deps, now: () => later }, 50);
      expect(up).toEqual({ delivered: 1, retried: 0, parked: 0 });
      const accepted = platform.platform.scores().filter((s) => s.status === 200);
      expect(accepted.map((s) => JSON.parse(s.body))).toStrictEqual([scoreOf(job)]);
      expect(await jobs().due(later, 50)).toEqual([]);
    } finally {
      platform.platform.faults.clear();
      await platform.stop();
    }
  });

  it.each([
    {
      why: "a user the course does not have",
      fields: { userId: "999999", scoreGiven: 5 },
    },
    {
      why: "a scoreGiven above scoreMaximum",
      fields: { scoreGiven: 1000 },
    },
  ])(
    "parks a score the platform refuses for good ($why) with the platform's answer, and the candidate's launch is unaffected",
    async ({ fields }) => {
      const { platform, course, userId } = await courseAfterLaunch();
      try {
        const task = activity("written-tasks");
        const job = gradeJob(course, {
          userId: userId("candidate"),
          activityId: task.id,
          scoreMaximum: task.grading.scoreMaximum,
          label: task.grading.label,
          timestamp: new Date().toISOString(),
          ...fields,
        });
        await enqueueGrades(stack.aws, job);

        const report = await deliverDueGrades(deliveryDeps(), 50);
        expect(report).toEqual({ delivered: 0, retried: 0, parked: 1 });

        // One attempt: a 400 is not retried.
        const refused = platform.platform.scores();
        expect(refused).toHaveLength(1);
        expect(refused[0]?.status).toBe(400);
        expect(refused[0]?.applied).toBe(false);
        const platformAnswer = platform.platform
          .serviceCalls()
          .find((c) => c.method === "POST" && new URL(c.url).pathname.endsWith("/scores"));
        expect(platformAnswer?.status).toBe(400);

        const parked = (await jobs().parked()).filter((j) => j.jobId === job.jobId);
        expect(parked).toHaveLength(1);
        expect(parked[0]?.status).toBe("parked");
        expect(parked[0]?.lastError?.status).toBe(400);
        expect(parked[0]?.lastError?.body).toBe(platformAnswer?.responseBody);
        expect(String(parked[0]?.lastError?.reason)).not.toBe("");

        // The candidate carries on: the next launch and page are as before.
        const again = await launch({ platformUrl: platform.url, course: "2", user: "candidate" });
        expect(again.status).toBe(303);
        const page = await followToApp(stack.tool, again.headers.get("location"));
        expect(page.status).toBe(200);
        expect(page.html).toContain("Your HLTA preparation");
      } finally {
        await platform.stop();
      }
    },
  );
});
