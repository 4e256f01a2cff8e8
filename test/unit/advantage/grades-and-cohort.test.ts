import { describe, expect, it } from "vitest";
import type { Enrolment } from "../../../domain/enrolment.js";
import { silentLogger } from "../../../functions/web/log.js";
import { loadCohort } from "../../../functions/web/services/cohort.js";
import { CohortPage } from "../../../functions/web/views/cohort-page.js";
import { AgsClient } from "../../../lti-tool/advantage/ags.js";
import { deliverDueGrades, type GradeJob, type GradeJobStore } from "../../../lti-tool/advantage/grades.js";
import { type CourseMember, NrpsClient } from "../../../lti-tool/advantage/nrps.js";
import { PlatformServiceClient, PlatformServiceError } from "../../../lti-tool/advantage/service-client.js";
import type { PlatformRegistration } from "../../../lti-tool/ports.js";
import { StoredKeySigner } from "../../../lti-tool/tool-keys.js";
import { MemoryToolKeyStore } from "../../support/memory-stores.js";
import { neverAnswers } from "../../support/never-answers.js";

const course = { issuer: "https://moodle.test", clientId: "c", deploymentId: "1", contextId: "course-2" };
const platform: PlatformRegistration = {
  issuer: course.issuer,
  clientId: "c",
  authUrl: "https://moodle.test/auth",
  tokenUrl: "https://moodle.test/token",
  jwksUrl: "https://moodle.test/jwks",
  createdAt: "2026-01-01T00:00:00.000Z",
};

class MemoryJobs implements GradeJobStore {
  jobs: GradeJob[] = [];
  async due(now: Date) {
    return this.jobs.filter((j) => j.status === "pending" && j.nextAttemptAt <= now.toISOString());
  }
  async markDelivered(job: GradeJob) {
    this.find(job).status = "delivered";
  }
  async reschedule(job: GradeJob, next: Date, error: NonNullable<GradeJob["lastError"]>) {
    Object.assign(this.find(job), {
      attempts: job.attempts + 1,
      nextAttemptAt: next.toISOString(),
      lastError: error,
    });
  }
  async park(job: GradeJob, error: NonNullable<GradeJob["lastError"]>) {
    Object.assign(this.find(job), { status: "parked", lastError: error });
  }
  private find(job: GradeJob): GradeJob {
    const found = this.jobs.find((j) => j.jobId === job.jobId);
    if (!found) throw new Error("no job");
    return found;
  }
}

function job(overrides: Partial<GradeJob> = {}): GradeJob {
  return {
    course,
    userId: "u1",
    activityId: "module-standards",
    jobId: "job-1",
    scoreGiven: 8,
    scoreMaximum: 10,
    activityProgress: "Completed",
    gradingProgress: "FullyGraded",
    timestamp: "2026-11-23T10:00:00.000Z",
    label: "Standards",
    attempts: 0,
    nextAttemptAt: "2026-11-23T10:00:00.000Z",
    status: "pending",
    ...overrides,
  };
}

function fakeAgs(outcomes: (Error | undefined)[]) {
  const posted: unknown[] = [];
  const ags = {
    findOrCreateLineItem: async () => ({
      id: "https://moodle.test/li/1?type_id=1",
      scoreMaximum: 10,
      label: "Standards",
    }),
    postScore: async (_p: PlatformRegistration, _url: string, score: unknown) => {
      const outcome = outcomes.shift();
      if (outcome) throw outcome;
      posted.push(score);
    },
  } as unknown as AgsClient;
  return { ags, posted };
}

function deps(jobs: MemoryJobs, ags: AgsClient, now: Date) {
  return {
    jobs,
    ags,
    platform: async () => platform,
    services: async () => ({
      agsScopes: [],
      lineItemsUrl: "https://moodle.test/lineitems?type_id=1",
      updatedAt: "",
    }),
    link: async () => undefined,
    now: () => now,
    backoffMs: 1000,
    random: () => 1,
  };
}

describe("grade delivery", () => {
  it("tells the line item search which scopes the course's launches granted", async () => {
    const jobs = new MemoryJobs();
    jobs.jobs.push(job());
    const options: unknown[] = [];
    const ags = {
      findOrCreateLineItem: async (_p: PlatformRegistration, _u: string, _i: unknown, o: unknown) => {
        options.push(o);
        return { id: "https://moodle.test/li/1", scoreMaximum: 10, label: "Standards" };
      },
      postScore: async () => {},
    } as unknown as AgsClient;
    const granted = [
      "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
      "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    ];
    await deliverDueGrades({
      ...deps(jobs, ags, new Date("2026-11-23T10:00:01Z")),
      services: async () => ({
        agsScopes: granted,
        lineItemsUrl: "https://moodle.test/lineitems",
        updatedAt: "",
      }),
    });
    expect(options).toEqual([expect.objectContaining({ grantedScopes: granted })]);
  });

  it("sends a score to its own activity's column, not to that of the placed link it was reached from", async () => {
    const jobs = new MemoryJobs();
    jobs.jobs.push(job({ activityId: "module-standards", resourceLinkId: "link-1" }));
    const asked: unknown[] = [];
    const urls: string[] = [];
    const ags = {
      findOrCreateLineItem: async (_p: PlatformRegistration, _url: string, want: unknown) => {
        asked.push(want);
        return { id: "https://moodle.test/li/standards", scoreMaximum: 10, label: "Standards" };
      },
      postScore: async (_p: PlatformRegistration, url: string) => {
        urls.push(url);
      },
    } as unknown as AgsClient;
    await deliverDueGrades({
      ...deps(jobs, ags, new Date("2026-11-23T10:00:01Z")),
      // The candidate launched from the evidence file's link, then worked on the standards module.
      link: async () => ({
        resourceLinkId: "link-1",
        activityId: "evidence-file",
        lineItemUrl: "https://moodle.test/li/E",
      }),
    });
    expect(urls).toEqual(["https://moodle.test/li/standards"]);
    expect(asked).toEqual([expect.not.objectContaining({ resourceLinkId: "link-1" })]);
    expect(asked).toEqual([expect.objectContaining({ resourceId: "module-standards" })]);
  });

  it("posts the score with no candidate text, only score and progress", async () => {
    const jobs = new MemoryJobs();
    jobs.jobs.push(job());
    const { ags, posted } = fakeAgs([]);
    const report = await deliverDueGrades(deps(jobs, ags, new Date("2026-11-23T10:00:01Z")));
    expect(report).toEqual({ delivered: 1, retried: 0, parked: 0 });
    expect(posted).toEqual([
      {
        userId: "u1",
        scoreGiven: 8,
        scoreMaximum: 10,
        activityProgress: "Completed",
        gradingProgress: "FullyGraded",
        timestamp: "2026-11-23T10:00:00.000Z",
      },
    ]);
  });

  it("keeps a score the LMS could not take (503) and delivers it on a later run, never losing it", async () => {
    const jobs = new MemoryJobs();
    jobs.jobs.push(job());
    const { ags, posted } = fakeAgs([new PlatformServiceError("down", 503, true, "")]);
    const t0 = new Date("2026-11-23T10:00:01Z");
    expect(await deliverDueGrades(deps(jobs, ags, t0))).toEqual({ delivered: 0, retried: 1, parked: 0 });
    expect(jobs.jobs[0]).toMatchObject({
      status: "pending",
      attempts: 1,
      nextAttemptAt: "2026-11-23T10:00:02.000Z",
    });
    expect(await deliverDueGrades(deps(jobs, ags, t0))).toEqual({ delivered: 0, retried: 0, parked: 0 });
    expect(await deliverDueGrades(deps(jobs, ags, new Date("2026-11-23T10:00:03Z")))).toEqual({
      delivered: 1,
      retried: 0,
      parked: 0,
    });
    expect(posted).toHaveLength(1);
  });

  it("parks a score the LMS refuses outright, with its answer", async () => {
    const jobs = new MemoryJobs();
    jobs.jobs.push(job());
    const { ags } = fakeAgs([
      new PlatformServiceError(
        "The LMS would not post a score (HTTP 400).",
        400,
        false,
        '{"error":"bad userId"}',
      ),
    ]);
    await deliverDueGrades(deps(jobs, ags, new Date("2026-11-23T10:00:01Z")));
    expect(jobs.jobs[0]).toMatchObject({
      status: "parked",
      lastError: { status: 400, body: '{"error":"bad userId"}' },
    });
  });

  it("parks, before making a column, when the launches granted no score scope", async () => {
    const jobs = new MemoryJobs();
    jobs.jobs.push(job());
    const called: string[] = [];
    const ags = {
      findOrCreateLineItem: async () => {
        called.push("findOrCreateLineItem");
        return { id: "https://moodle.test/li/1", scoreMaximum: 10, label: "Standards" };
      },
      postScore: async () => void called.push("postScore"),
    } as unknown as AgsClient;
    await deliverDueGrades({
      ...deps(jobs, ags, new Date("2026-11-23T10:00:01Z")),
      services: async () => ({
        agsScopes: ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"],
        lineItemsUrl: "https://moodle.test/lineitems",
        updatedAt: "",
      }),
    });
    expect(called).toEqual([]);
    expect(jobs.jobs[0]).toMatchObject({
      status: "parked",
      lastError: { reason: expect.stringContaining("grant no score scope") },
    });
  });

  it("parks when the course never offered AGS", async () => {
    const jobs = new MemoryJobs();
    jobs.jobs.push(job());
    const { ags } = fakeAgs([]);
    await deliverDueGrades({
      ...deps(jobs, ags, new Date("2026-11-23T10:00:01Z")),
      services: async () => undefined,
    });
    expect(jobs.jobs[0]?.status).toBe("parked");
  });
});

/** The real AGS client over `fetchImpl`, with a fresh tool key and short back-offs. */
async function agsOver(fetchImpl: typeof fetch): Promise<AgsClient> {
  const signer = new StoredKeySigner(new MemoryToolKeyStore());
  await signer.ensureKey();
  return new AgsClient(new PlatformServiceClient({ signer, fetch: fetchImpl, backoffMs: 1 }));
}

describe("grade delivery against an LMS that does not answer", () => {
  /** A fetch where one LMS never answers (until the caller gives up) and the other takes every score. */
  function lmsPair() {
    const posted: string[] = [];
    const fetchImpl: typeof fetch = async (input, init) => {
      const url = String(input);
      if (url.startsWith("https://silent.test")) return neverAnswers(input, init);
      if (url.endsWith("/token")) return Response.json({ access_token: "t", token_type: "Bearer" });
      posted.push(url);
      return new Response(null, { status: 200 });
    };
    return { fetchImpl, posted };
  }
  const silent = { ...course, issuer: "https://silent.test" };
  const silentPlatform = { ...platform, issuer: silent.issuer, tokenUrl: "https://silent.test/token" };

  it("bounds each job, records its outcome, and does not keep other courses waiting behind it", async () => {
    const { fetchImpl, posted } = lmsPair();
    const ags = await agsOver(fetchImpl);
    const jobs = new MemoryJobs();
    jobs.jobs.push(
      job({ jobId: "s1", course: silent, resourceLinkId: "link-1" }),
      job({ jobId: "s2", course: silent, resourceLinkId: "link-1" }),
      job({ jobId: "ok", userId: "u2", resourceLinkId: "link-1" }),
    );
    const started = Date.now();
    const report = await deliverDueGrades({
      ...deps(jobs, ags, new Date("2026-11-23T10:00:01Z")),
      platform: async (issuer: string) => (issuer === silent.issuer ? silentPlatform : platform),
      link: async (c: { issuer: string }) => ({
        resourceLinkId: "link-1",
        activityId: "module-standards",
        lineItemUrl: `${c.issuer}/li/1`,
      }),
      services: async (c: { issuer: string }) => ({
        agsScopes: [],
        lineItemsUrl: `${c.issuer}/lineitems`,
        updatedAt: "",
      }),
      jobBudgetMs: 150,
    });
    // One job waited its budget; the other silent job was not tried; the other course's went.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(report).toEqual({ delivered: 1, retried: 2, parked: 0 });
    expect(jobs.jobs.map((j) => [j.jobId, j.status, j.attempts])).toEqual([
      ["s1", "pending", 1],
      ["s2", "pending", 1],
      ["ok", "delivered", 0],
    ]);
    expect(jobs.jobs[1]?.lastError?.reason).toContain("did not answer another score");
    expect(posted).toHaveLength(1);
  });

  it("holds back only the silent gradebook site, not others under the same registration (Canvas Cloud)", async () => {
    const { fetchImpl, posted } = lmsPair();
    const ags = await agsOver(fetchImpl);
    const jobs = new MemoryJobs();
    const elsewhere = { ...course, contextId: "course-9" };
    jobs.jobs.push(
      job({ jobId: "silent", resourceLinkId: "link-1" }),
      job({ jobId: "other-site", course: elsewhere, resourceLinkId: "link-1" }),
    );
    const report = await deliverDueGrades({
      ...deps(jobs, ags, new Date("2026-11-23T10:00:01Z")),
      // One issuer and client id; each course's gradebook on its own site.
      link: async (c: { contextId: string }) => ({
        resourceLinkId: "link-1",
        activityId: "module-standards",
        lineItemUrl: c.contextId === "course-9" ? "https://school-b.test/li/1" : "https://silent.test/li/1",
      }),
      jobBudgetMs: 150,
    });
    expect(report).toEqual({ delivered: 1, retried: 1, parked: 0 });
    expect(posted).toEqual(["https://school-b.test/li/1/scores"]);
  });

  it("keeps the LMS's own answer when the budget ends while waiting out its Retry-After", async () => {
    const busy: typeof fetch = async (input) =>
      String(input).endsWith("/token")
        ? Response.json({ access_token: "t", token_type: "Bearer" })
        : new Response('{"error":"busy"}', { status: 503, headers: { "retry-after": "25" } });
    const ags = await agsOver(busy);
    const jobs = new MemoryJobs();
    jobs.jobs.push(job({ resourceLinkId: "link-1" }));
    const started = Date.now();
    await deliverDueGrades({
      ...deps(jobs, ags, new Date("2026-11-23T10:00:01Z")),
      link: async () => ({
        resourceLinkId: "link-1",
        activityId: "module-standards",
        lineItemUrl: "https://moodle.test/li/1",
      }),
      jobBudgetMs: 150,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(jobs.jobs[0]).toMatchObject({ status: "pending", attempts: 1, lastError: { status: 503 } });
  });

  it("starts no job after its stop time", async () => {
    const jobs = new MemoryJobs();
    jobs.jobs.push(job());
    const { ags, posted } = fakeAgs([]);
    const report = await deliverDueGrades({
      ...deps(jobs, ags, new Date("2026-11-23T10:00:01Z")),
      stopAt: Date.now() - 1,
    });
    expect(report).toEqual({ delivered: 0, retried: 0, parked: 0 });
    expect(posted).toEqual([]);
    expect(jobs.jobs[0]?.status).toBe("pending");
  });
});

describe("cohort", () => {
  /** The launch record of someone who opened the tool as a candidate. */
  const launchedAs = (userId: string, extra: Partial<Enrolment> = {}): Enrolment => ({
    course,
    userId,
    role: "candidate",
    ltiRoles: [],
    registration: "r",
    firstLaunchAt: "2026-11-01T00:00:00Z",
    lastLaunchAt: "2026-11-01T00:00:00Z",
    ...extra,
  });

  it("lists every candidate from the LMS roster, marks who has not opened the tool, and keeps launched ones missing from the roster", async () => {
    const members: CourseMember[] = [
      { userId: "a", name: "Ann", status: "Active", ltiRoles: ["Learner"], role: "candidate" },
      { userId: "b", name: "Ben", status: "Active", ltiRoles: ["Learner"], role: "candidate" },
      { userId: "t", name: "Tia", status: "Active", ltiRoles: ["Instructor"], role: "tutor" },
      { userId: "x", name: "Xan", status: "Inactive", ltiRoles: ["Learner"], role: "candidate" },
    ];
    const saved: unknown[] = [];
    const nrps = { members: async () => members } as unknown as NrpsClient;
    const cohort = await loadCohort({
      course,
      platform,
      enrolments: [
        launchedAs("a", { lastLaunchAt: "2026-11-02T00:00:00Z" }),
        launchedAs("z", { name: "Zed" }),
      ],
      cache: {
        services: async () => ({ agsScopes: [], membershipsUrl: "https://moodle.test/m", updatedAt: "" }),
        roster: async () => undefined,
        saveRoster: async (_c, r) => {
          saved.push(r);
        },
      },
      nrps,
      log: silentLogger,
    });
    expect(cohort.candidates.map((c) => [c.userId, c.firstLaunchAt ?? null, c.inRoster])).toEqual([
      ["a", "2026-11-01T00:00:00Z", true],
      ["b", null, true],
      ["z", "2026-11-01T00:00:00Z", false],
    ]);
    expect(saved).toHaveLength(1);
    expect(cohort).not.toHaveProperty("rosterUnavailable");
  });

  it("does not show as candidates people who launched as one but whom the LMS's list now names otherwise", async () => {
    const members: CourseMember[] = [
      { userId: "act", name: "Ann", status: "Active", ltiRoles: ["Learner"], role: "candidate" },
      { userId: "gone", name: "Wendy", status: "Deleted", ltiRoles: ["Learner"], role: "candidate" },
      { userId: "paused", name: "Pat", status: "Inactive", ltiRoles: ["Learner"], role: "candidate" },
      { userId: "promoted", name: "Tom", status: "Active", ltiRoles: ["Instructor"], role: "tutor" },
    ];
    const cohort = await loadCohort({
      course,
      platform,
      enrolments: ["act", "gone", "paused", "promoted", "new"].map((id) => launchedAs(id)),
      cache: {
        services: async () => ({ agsScopes: [], membershipsUrl: "https://moodle.test/m", updatedAt: "" }),
        roster: async () => undefined,
        saveRoster: async () => {},
      },
      nrps: { members: async () => members } as unknown as NrpsClient,
      log: silentLogger,
    });
    expect(cohort.candidates.map((c) => [c.userId, c.inRoster])).toEqual([
      ["act", true],
      ["new", false],
    ]);
  });

  it("says so when the course has no class list to ask for, and shows who has launched", async () => {
    const cohort = await loadCohort({
      course,
      platform,
      enrolments: [launchedAs("a", { name: "Ann" })],
      cache: {
        services: async () => ({ agsScopes: [], updatedAt: "" }),
        roster: async () => undefined,
        saveRoster: async () => {},
      },
      nrps: {
        members: async () => {
          throw new Error("not to be asked");
        },
      } as unknown as NrpsClient,
      log: silentLogger,
    });
    expect(cohort.candidates.map((c) => c.userId)).toEqual(["a"]);
    expect(cohort.rosterUnavailable).toMatch(/only candidates who have opened the tool/);
    expect(cohort).not.toHaveProperty("rosterProblem");
    const page = String(CohortPage({ cohort }));
    expect(page).toContain("The candidates in this course who have opened the tool.");
    expect(page).not.toContain("including those who have not opened the tool yet");
    expect(page).toContain("Names and Role Provisioning");
  });

  it("shows the cached roster with a note when the LMS fails", async () => {
    const signer = new StoredKeySigner(new MemoryToolKeyStore());
    const failing = new NrpsClient(
      new PlatformServiceClient({
        signer,
        fetch: async () => new Response("", { status: 500 }),
        maxAttempts: 1,
      }),
    );
    const cohort = await loadCohort({
      course,
      platform,
      enrolments: [],
      cache: {
        services: async () => ({ agsScopes: [], membershipsUrl: "https://moodle.test/m", updatedAt: "" }),
        roster: async () => ({
          fetchedAt: "2026-11-20T09:00:00.000Z",
          members: [{ userId: "a", name: "Ann", status: "Active", ltiRoles: ["Learner"], role: "candidate" }],
        }),
        saveRoster: async () => {},
      },
      nrps: failing,
      log: silentLogger,
      now: new Date("2026-11-23T10:00:00Z"),
    });
    expect(cohort.candidates.map((c) => c.userId)).toEqual(["a"]);
    expect(cohort.rosterProblem).toContain("2026-11-20 09:00");
  });

  const cachedAnn = {
    services: async () => ({ agsScopes: [], membershipsUrl: "https://moodle.test/m", updatedAt: "" }),
    roster: async () => ({
      fetchedAt: "2026-11-20T09:00:00.000Z",
      members: [
        {
          userId: "a",
          name: "Ann",
          status: "Active" as const,
          ltiRoles: ["Learner"],
          role: "candidate" as const,
        },
      ],
    }),
    saveRoster: async () => {},
  };

  it("stops waiting for a slow LMS within the page's time and shows the cached roster", async () => {
    // An LMS that answers page after page, slowly: nothing bounds the whole list but the wait.
    let pages = 0;
    const slow = {
      members: async (_p: unknown, _u: string, options: { signal?: AbortSignal } = {}) => {
        for (;;) {
          options.signal?.throwIfAborted();
          pages++;
          await new Promise((resolve) => setTimeout(resolve, 20));
          if (pages > 200) return [];
        }
      },
    } as unknown as NrpsClient;
    const started = Date.now();
    const cohort = await loadCohort({
      course,
      platform,
      enrolments: [],
      cache: cachedAnn,
      nrps: slow,
      log: silentLogger,
      now: new Date("2026-11-23T10:00:00Z"),
      rosterWaitMs: 100,
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(cohort.candidates.map((c) => c.userId)).toEqual(["a"]);
    expect(cohort.rosterProblem).toContain("2026-11-20 09:00");
    // The list stops asking for pages once the page stopped waiting.
    const asked = pages;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(pages).toBeLessThanOrEqual(asked + 1);

    // An LMS call that ignores the signal and never ends: the page still does not wait for it.
    const stuck = { members: () => new Promise<never>(() => {}) } as unknown as NrpsClient;
    const again = await loadCohort({
      course,
      platform,
      enrolments: [],
      cache: cachedAnn,
      nrps: stuck,
      log: silentLogger,
      now: new Date("2026-11-23T10:00:00Z"),
      rosterWaitMs: 100,
    });
    expect(again.rosterProblem).toContain("2026-11-20 09:00");
  });

  it("shows the fresh roster without blaming the LMS when only keeping it fails", async () => {
    const warnings: string[] = [];
    const cohort = await loadCohort({
      course,
      platform,
      enrolments: [],
      cache: {
        ...cachedAnn,
        saveRoster: async () => {
          throw new Error("Item size has exceeded the maximum allowed size");
        },
      },
      nrps: {
        members: async () => [
          { userId: "b", name: "Ben", status: "Active", ltiRoles: ["Learner"], role: "candidate" },
        ],
      } as unknown as NrpsClient,
      log: { ...silentLogger, warn: (event: string) => warnings.push(event) },
      now: new Date("2026-11-23T10:00:00Z"),
    });
    expect(cohort.candidates.map((c) => c.userId)).toEqual(["b"]);
    expect(cohort.rosterProblem).toBeUndefined();
    expect(warnings).toEqual(["nrps.roster_not_saved"]);
  });
});
