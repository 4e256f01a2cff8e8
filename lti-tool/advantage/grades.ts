import type { CourseRef } from "../../domain/tenancy.js";
import type { CourseServices, PlatformRegistration, ResourceLinkRecord } from "../ports.js";
import type { ActivityProgress, AgsClient, GradingProgress } from "./ags.js";
import { PlatformServiceError, SCOPES } from "./service-client.js";

/**
 * A score on its way to the LMS gradebook. Written in the same transaction as the completion
 * that caused it; delivered in the background, so a slow or failing LMS never blocks the
 * candidate and a failure is retried, never lost. Only scores and progress travel: evidence
 * and task text never go to the gradebook.
 */
export interface GradeJob {
  course: CourseRef;
  userId: string;
  activityId: string;
  /** Identifies this version of the job: a newer completion replaces an older undelivered one. */
  jobId: string;
  scoreGiven?: number;
  scoreMaximum: number;
  activityProgress: ActivityProgress;
  gradingProgress: GradingProgress;
  /** When the candidate's work happened (AGS orders scores by it). */
  timestamp: string;
  /** Label of the line item to create if the course has none for this activity. */
  label: string;
  resourceLinkId?: string;
  attempts: number;
  nextAttemptAt: string;
  status: "pending" | "delivered" | "parked";
  lastError?: { status?: number; body?: string; reason: string };
}

export interface GradeJobStore {
  due(now: Date, limit: number): Promise<GradeJob[]>;
  markDelivered(job: GradeJob, at: Date): Promise<void>;
  reschedule(job: GradeJob, nextAttemptAt: Date, error: NonNullable<GradeJob["lastError"]>): Promise<void>;
  park(job: GradeJob, error: NonNullable<GradeJob["lastError"]>): Promise<void>;
}

export interface GradeDeliveryDeps {
  jobs: GradeJobStore;
  ags: AgsClient;
  platform(issuer: string, clientId: string): Promise<PlatformRegistration | undefined>;
  services(course: CourseRef): Promise<CourseServices | undefined>;
  link(course: CourseRef, resourceLinkId: string): Promise<ResourceLinkRecord | undefined>;
  now?: () => Date;
  /**
   * The longest one job may take, every call to the LMS included (default 12 s): a job that
   * runs out is rescheduled like any unanswered call, so its outcome is always recorded.
   */
  jobBudgetMs?: number;
  /** No job starts after this time (epoch ms): the scheduled function's own deadline. */
  stopAt?: number;
  maxAttempts?: number;
  /** Backoff between attempts: base × 2^attempts, capped, with full jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
  random?: () => number;
}

export interface DeliveryReport {
  delivered: number;
  retried: number;
  parked: number;
}

/** Deliver every due grade job once; called by the local loop and the scheduled Lambda. */
export async function deliverDueGrades(deps: GradeDeliveryDeps, limit = 50): Promise<DeliveryReport> {
  const now = deps.now?.() ?? new Date();
  const report: DeliveryReport = { delivered: 0, retried: 0, parked: 0 };
  // A gradebook site that did not answer one job this round is not asked again in it: its other
  // jobs are rescheduled untried (an attempt each, as trying would have been), and other courses'
  // scores go on instead of queueing behind it. Keyed by the site, not the registration: Canvas
  // Cloud serves every institution under one issuer (and an inherited key, one client id).
  const unanswered = new Set<string>();
  for (const job of await deps.jobs.due(now, limit)) {
    if (deps.stopAt !== undefined && Date.now() >= deps.stopAt) break;
    report[await deliverOne(job, deps, now, unanswered)]++;
  }
  return report;
}

async function deliverOne(
  job: GradeJob,
  deps: GradeDeliveryDeps,
  now: Date,
  unanswered: Set<string>,
): Promise<keyof DeliveryReport> {
  const park = async (reason: string, status?: number, body?: string) => {
    await deps.jobs.park(job, {
      reason,
      ...(status !== undefined ? { status } : {}),
      ...(body ? { body } : {}),
    });
    return "parked" as const;
  };
  const platform = await deps.platform(job.course.issuer, job.course.clientId);
  if (!platform) return park("The LMS registration was removed; the score cannot be sent.");
  const services = await deps.services(job.course);
  const placed = job.resourceLinkId ? await deps.link(job.course, job.resourceLinkId) : undefined;
  // A placed link's column is its own activity's: a score for another activity reached from it
  // (the candidate moved on inside the tool) goes to that activity's column, found by resourceId.
  const anotherActivitysLink = placed !== undefined && placed.activityId !== job.activityId;
  const link = anotherActivitysLink ? undefined : placed;
  if (!link?.lineItemUrl && !services?.lineItemsUrl) {
    return park(
      "The course's launches did not offer the Assignment and Grade Services, so there is no gradebook to send to.",
    );
  }
  // Scopes the launches named, without the one a score needs (Canvas: a key without "submission
  // results"): parked before a column is made that no score could reach.
  if (services?.agsScopes.length && !services.agsScopes.includes(SCOPES.score)) {
    return park(
      "The LMS does not let the tool send scores in this course (its launches grant no score scope). Ask your LMS administrator to let the tool send grades, then send the score again.",
    );
  }
  const site = siteOf(link?.lineItemUrl ?? services?.lineItemsUrl ?? "");
  if (unanswered.has(site)) {
    return retryLater(job, deps, now, { reason: "The LMS did not answer another score just before." });
  }
  const signal = AbortSignal.timeout(deps.jobBudgetMs ?? 12_000);
  try {
    const lineItemUrl =
      link?.lineItemUrl ??
      (
        await deps.ags.findOrCreateLineItem(
          platform,
          services?.lineItemsUrl ?? "",
          {
            scoreMaximum: job.scoreMaximum,
            label: job.label,
            resourceId: job.activityId,
            // The link's id ties the column to it, unless the link is another activity's.
            ...(job.resourceLinkId && !anotherActivitysLink ? { resourceLinkId: job.resourceLinkId } : {}),
          },
          { signal, ...(services?.agsScopes ? { grantedScopes: services.agsScopes } : {}) },
        )
      ).id;
    await deps.ags.postScore(
      platform,
      lineItemUrl,
      {
        userId: job.userId,
        ...(job.scoreGiven !== undefined
          ? { scoreGiven: job.scoreGiven, scoreMaximum: job.scoreMaximum }
          : {}),
        activityProgress: job.activityProgress,
        gradingProgress: job.gradingProgress,
        timestamp: job.timestamp,
      },
      { signal },
    );
    await deps.jobs.markDelivered(job, now);
    return "delivered";
  } catch (error) {
    const serviceError = error instanceof PlatformServiceError ? error : undefined;
    const lastError = {
      reason: serviceError?.userMessage ?? (error as Error).message,
      ...(serviceError?.httpStatus !== undefined ? { status: serviceError.httpStatus } : {}),
      ...(serviceError?.body ? { body: serviceError.body.slice(0, 1000) } : {}),
    };
    if (serviceError && !serviceError.retryable)
      return park(lastError.reason, lastError.status, lastError.body);
    // No HTTP answer at all (unreachable, or the job's budget ran out): the site is unwell.
    if (serviceError && serviceError.httpStatus === undefined) unanswered.add(site);
    return retryLater(job, deps, now, lastError);
  }
}

/** The origin of a gradebook URL ("" when it does not parse). */
function siteOf(url: string): string {
  return URL.canParse(url) ? new URL(url).origin : "";
}

/** Try the job again after a growing, jittered pause; park it once its attempts are spent. */
async function retryLater(
  job: GradeJob,
  deps: GradeDeliveryDeps,
  now: Date,
  lastError: NonNullable<GradeJob["lastError"]>,
): Promise<"retried" | "parked"> {
  const attempts = job.attempts + 1;
  if (attempts >= (deps.maxAttempts ?? 12)) {
    await deps.jobs.park(job, {
      ...lastError,
      reason: `Gave up after ${attempts} attempts: ${lastError.reason}`,
    });
    return "parked";
  }
  const cap = deps.maxBackoffMs ?? 60 * 60_000;
  const delay =
    (deps.random ?? Math.random)() * Math.min(cap, (deps.backoffMs ?? 30_000) * 2 ** job.attempts);
  await deps.jobs.reschedule(job, new Date(now.getTime() + delay), lastError);
  return "retried";
}
