/**
 * Names and Role Provisioning Services over real HTTP: a tutor's cohort page lists every
 * candidate the development platform's memberships service returns, across every
 * `Link: rel="next"` page, including the 25 who never launched; the roster is cached, and a
 * failing LMS never hides the last known cohort.
 */
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoCourseServicesStore } from "../../../adapters/dynamo/course-services.js";
import {
  CLAIM,
  launch,
  MEDIA_TYPE,
  type RunningDevPlatform,
  type ServiceCall,
} from "../../../dev/platform/index.js";
import type { CourseRef } from "../../../domain/tenancy.js";
import { followToApp, pageText, type Stack, startPlatform, startStack } from "./harness.js";

const PAGE_SIZE = 10;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** A fresh platform (its own issuer: nothing cached yet) paging memberships by PAGE_SIZE. */
async function pagedPlatform(): Promise<RunningDevPlatform> {
  return startPlatform(stack, { membershipsPageSize: PAGE_SIZE });
}

/** The tutor launches in course 2 and lands on the cohort page. */
async function tutorCohort(platform: RunningDevPlatform) {
  const launched = await launch({ platformUrl: platform.url, course: "2", user: "tutor", capture: true });
  expect(launched.status).toBe(303);
  const post = launched.exchanges.find((e) => e.step === "launch");
  const claims = decodeJwt(new URLSearchParams(post?.request.body ?? "").get("id_token") ?? "");
  const nrps = claims[CLAIM.nrpsService] as { context_memberships_url: string } | undefined;
  const page = await followToApp(stack.tool, launched.headers.get("location"));
  expect(page.status).toBe(200);
  return { ...page, membershipsUrl: nrps?.context_memberships_url ?? "" };
}

function membershipCalls(platform: RunningDevPlatform): ServiceCall[] {
  return platform.platform
    .serviceCalls()
    .filter((c) => c.method === "GET" && new URL(c.url).pathname.endsWith("/memberships"));
}

function nextLink(header: string | undefined): string | undefined {
  for (const part of (header ?? "").split(",")) {
    const m = part.match(/<([^>]+)>\s*;\s*rel="?next"?/);
    if (m?.[1]) return m[1];
  }
  return undefined;
}

/** Who the platform enrols as a student in course 2: the cohort the tutor should see. */
function expectedCandidates(platform: RunningDevPlatform) {
  return platform.platform.directory
    .enrolments("2")
    .filter((e) => e.role === "student")
    .map((e) => e.user);
}

function listedCandidates(html: string): string[] {
  return [...html.matchAll(/<tr\b[^>]*\bdata-candidate="([^"]+)"/g)].map((m) => m[1] ?? "");
}

function courseOf(platform: RunningDevPlatform): CourseRef {
  return {
    issuer: platform.url,
    clientId: platform.platform.tool.clientId,
    deploymentId: platform.platform.tool.deploymentId,
    contextId: "2",
  };
}

/** Time passes: the cached class list becomes older than any cache window. */
async function ageCachedRoster(platform: RunningDevPlatform): Promise<void> {
  const cache = new DynamoCourseServicesStore(stack.aws.doc, stack.aws.tableName);
  const roster = await cache.roster(courseOf(platform));
  if (!roster) throw new Error("The first read cached no roster.");
  await cache.saveRoster(courseOf(platform), {
    ...roster,
    fetchedAt: new Date(Date.now() - 24 * 3600_000).toISOString(),
  });
}

/** The web Lambda's time limit (infra/constructs/hlta-function.ts: the default `timeout`). */
const WEB_FUNCTION_TIMEOUT_MS = 10_000;

describe("the tutor's cohort from the development platform's memberships (NRPS)", () => {
  it("lists every candidate, including those who never launched, by following every rel=next page", async () => {
    const platform = await pagedPlatform();
    try {
      const candidate = await launch({ platformUrl: platform.url, course: "2", user: "candidate" });
      expect(candidate.status).toBe(303);

      const page = await tutorCohort(platform);

      const expected = expectedCandidates(platform);
      expect(expected.filter((u) => u.rosterOnly)).toHaveLength(25);
      const listed = listedCandidates(page.html);
      expect([...listed].sort()).toEqual(expected.map((u) => u.id).sort());
      const text = pageText(page.html);
      for (const u of expected) expect(text).toContain(`${u.givenName} ${u.familyName}`);
      expect(text).not.toContain("could not be asked");

      // Every page was asked for, with the membership container media type, each at the
      // previous page's rel="next" link; the last page has none.
      const members = platform.platform.directory.enrolments("2").length;
      const calls = membershipCalls(platform);
      expect(calls).toHaveLength(Math.ceil(members / PAGE_SIZE));
      expect(calls[0]?.url).toBe(page.membershipsUrl);
      for (const [i, call] of calls.entries()) {
        expect(call.status).toBe(200);
        expect(call.headers.accept).toBe(MEDIA_TYPE.membershipContainer);
        expect(call.headers.authorization).toMatch(/^Bearer \S+$/);
        const previous = calls[i - 1];
        if (previous) expect(call.url).toBe(nextLink(previous.responseHeaders.link));
      }
      expect(nextLink(calls.at(-1)?.responseHeaders.link)).toBeUndefined();
    } finally {
      await platform.stop();
    }
  });

  it("does not ask the LMS again within the cache window", async () => {
    const platform = await pagedPlatform();
    try {
      const first = await tutorCohort(platform);
      const asked = membershipCalls(platform).length;
      expect(asked).toBeGreaterThan(0);

      // The same page again, and a new launch by the tutor.
      const reload = await fetch(first.url, { signal: AbortSignal.timeout(15_000) });
      expect(reload.status).toBe(200);
      const reloaded = await reload.text();
      const relaunched = await tutorCohort(platform);

      expect(membershipCalls(platform)).toHaveLength(asked);
      const expected = expectedCandidates(platform)
        .map((u) => u.id)
        .sort();
      expect([...listedCandidates(reloaded)].sort()).toEqual(expected);
      expect([...listedCandidates(relaunched.html)].sort()).toEqual(expected);
    } finally {
      await platform.stop();
    }
  });

  it("shows the last known cohort with a note when the LMS cannot be asked", async () => {
    const platform = await pagedPlatform();
    try {
      await tutorCohort(platform);
      const askedBefore = membershipCalls(platform).length;

      await ageCachedRoster(platform);

      // Now the memberships service fails, every attempt.
      platform.platform.faults.fail(50, { status: 503, retryAfterSeconds: 0, on: "services" });
      const page = await tutorCohort(platform);
      platform.platform.faults.clear();

      expect(platform.platform.faults.injected().length).toBeGreaterThan(0);
      expect(membershipCalls(platform).length).toBeGreaterThan(askedBefore);
      expect(
        membershipCalls(platform)
          .slice(askedBefore)
          .every((c) => c.status === 503),
      ).toBe(true);
      const text = pageText(page.html);
      expect(text).toContain("could not be asked");
      const expected = expectedCandidates(platform);
      expect([...listedCandidates(page.html)].sort()).toEqual(expected.map((u) => u.id).sort());
      for (const u of expected) expect(text).toContain(`${u.givenName} ${u.familyName}`);
    } finally {
      platform.platform.faults.clear();
      await platform.stop();
    }
  });

  it("shows the last known cohort within the web function's time limit when the LMS asks to be retried later", async () => {
    const platform = await pagedPlatform();
    try {
      await tutorCohort(platform);
      await ageCachedRoster(platform);

      // The LMS is busy and says so: 503 with Retry-After: 4 on every call.
      platform.platform.faults.fail(50, { status: 503, retryAfterSeconds: 4, on: "services" });
      const started = Date.now();
      const page = await tutorCohort(platform);
      const elapsed = Date.now() - started;
      platform.platform.faults.clear();

      expect(pageText(page.html)).toContain("could not be asked");
      expect(listedCandidates(page.html)).toHaveLength(expectedCandidates(platform).length);
      // A page that waits out the LMS's Retry-After would be cut off by the Lambda before it answers.
      expect(elapsed).toBeLessThan(WEB_FUNCTION_TIMEOUT_MS);
    } finally {
      platform.platform.faults.clear();
      await platform.stop();
    }
  });
});
