import type { CourseRef } from "../../domain/tenancy.js";
import type { CourseServices, PlatformRegistration, ResourceLinkRecord } from "../ports.js";
import type { ActivityProgress, AgsClient, GradingProgress } from "./ags.js";
import { PlatformServiceError } from "./service-client.js";

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
  for (const job of await deps.jobs.due(now, limit)) {
    const outcome = await deliverOne(job, deps, now);
    report[outcome]++;
  }
  return report;
}

async function deliverOne(job: GradeJob, deps: GradeDeliveryDeps, now: Date): Promise<keyof DeliveryReport> {
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
  const link = job.resourceLinkId ? await deps.link(job.course, job.resourceLinkId) : undefined;
  if (!link?.lineItemUrl && !services?.lineItemsUrl) {
    return park(
      "The course's launches did not offer the Assignment and Grade Services, so there is no gradebook to send to.",
    );
  }
  try {
    const lineItemUrl =
      link?.lineItemUrl ??
      (
        await deps.ags.findOrCreateLineItem(platform, services?.lineItemsUrl ?? "", {
          scoreMaximum: job.scoreMaximum,
          label: job.label,
          resourceId: job.activityId,
          ...(job.resourceLinkId ? { resourceLinkId: job.resourceLinkId } : {}),
        })
      ).id;
    await deps.ags.postScore(platform, lineItemUrl, {
      userId: job.userId,
      ...(job.scoreGiven !== undefined ? { scoreGiven: job.scoreGiven, scoreMaximum: job.scoreMaximum } : {}),
      activityProgress: job.activityProgress,
      gradingProgress: job.gradingProgress,
      timestamp: job.timestamp,
    });
    await deps.jobs.markDelivered(job, now);
    return "delivered";
  } catch (error) {
    const serviceError = error instanceof PlatformServiceError ? error : undefined;
    const lastError = {
      reason: serviceError?.userMessage ?? (error as Error).message,
      ...(serviceError?.httpStatus !== undefined ? { status: serviceError.httpStatus } : {}),
      ...(serviceError?.body ? { body: serviceError.body.slice(0, 1000) } : {}),
    };
    const attempts = job.attempts + 1;
    if ((serviceError && !serviceError.retryable) || attempts >= (deps.maxAttempts ?? 12)) {
      return park(
        attempts >= (deps.maxAttempts ?? 12)
          ? `Gave up after ${attempts} attempts: ${lastError.reason}`
          : lastError.reason,
        lastError.status,
        lastError.body,
      );
    }
    const cap = deps.maxBackoffMs ?? 60 * 60_000;
    const delay =
      (deps.random ?? Math.random)() * Math.min(cap, (deps.backoffMs ?? 30_000) * 2 ** job.attempts);
    await deps.jobs.reschedule(
      { ...job, attempts: attempts - 1 },
      new Date(now.getTime() + delay),
      lastError,
    );
    return "retried";
  }
}
