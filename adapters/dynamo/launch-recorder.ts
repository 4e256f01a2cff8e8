import { setTimeout as sleep } from "node:timers/promises";
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import type { Enrolment } from "../../domain/enrolment.js";
import { ConflictError } from "../../domain/errors.js";
import { enrolmentRegistration } from "../../domain/ids.js";
import type { LaunchRecorder } from "../../functions/web/deps.js";
import { CLAIM } from "../../lti-tool/claims.js";
import { isResourceLinkLaunch, type ValidatedLaunch } from "../../lti-tool/launch.js";
import { replayedLoginError, usedLoginExpiry } from "../../lti-tool/login-state.js";
import type { CourseServices, OpenedLoginState, ResourceLinkRecord } from "../../lti-tool/ports.js";
import type { DynamoCourseServicesStore } from "./course-services.js";
import type { DynamoEnrolmentStore, TransactItem } from "./enrolments.js";
import { type DynamoUsedLoginStore, previousStateId, USED_LOGIN_KIND } from "./login-states.js";

/** Builds the writes a launch causes beyond the enrolment itself (the xAPI outbox items). */
export type LaunchSideEffects = (
  launch: ValidatedLaunch,
  enrolment: Enrolment,
  activityId: string,
) => Promise<TransactItem[]>;

/** The AGS and NRPS endpoints a launch announced (AGS §3.1, NRPS §3.6.1). */
export function servicesOf(launch: ValidatedLaunch, at: Date): CourseServices | undefined {
  const ags = launch.claims[CLAIM.ags];
  const nrps = launch.claims[CLAIM.nrps];
  if (!ags && !nrps) return undefined;
  return {
    agsScopes: ags?.scope ?? [],
    ...(ags?.lineitems ? { lineItemsUrl: ags.lineitems } : {}),
    ...(nrps ? { membershipsUrl: nrps.context_memberships_url } : {}),
    updatedAt: at.toISOString(),
  };
}

export interface LaunchRecorderOptions {
  /**
   * Attempts when DynamoDB cancels the transaction for a passing reason: a conflict with another
   * transaction on one of its items (a course's shared items at the start of a class) or
   * throttling (default 5).
   */
  attempts?: number;
  /** Waits between those attempts (default: a timer). */
  pause?: (ms: number) => Promise<void>;
}

/** Cancellation reasons that pass: the same transaction may succeed a moment later. */
const PASSING = new Set(["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"]);

/**
 * One DynamoDB call per launch, all or nothing: a transaction of the enrolment, the single use
 * of the launch's state and nonce, the course's service endpoints, the placed link's activity
 * and line item, and whatever side effects add (the xAPI outbox). So a refused replay writes
 * nothing, and a launch whose writes fail has not spent its state. Items this instance wrote
 * moments ago, unchanged, are left out (the enrolment: ENROLMENT_MEMO_MS; the course's:
 * WRITTEN_MEMO_MS); when only the single use is left, it is one conditional put.
 */
export class DynamoLaunchRecorder implements LaunchRecorder {
  constructor(
    private readonly enrolments: DynamoEnrolmentStore,
    private readonly courseServices: DynamoCourseServicesStore,
    private readonly usedLogins: DynamoUsedLoginStore,
    private readonly sideEffects: LaunchSideEffects = async () => [],
    private readonly options: LaunchRecorderOptions = {},
  ) {}

  async recordLaunch(launch: ValidatedLaunch, at: Date, activityId: string): Promise<Enrolment> {
    const role = launch.user.role;
    if (!role) throw new Error("recordLaunch needs a launch with a role");
    const context = launch.claims[CLAIM.context];
    const enrolment: Enrolment = {
      course: launch.course,
      userId: launch.user.sub,
      role,
      ltiRoles: launch.user.ltiRoles,
      ...(launch.user.name !== undefined ? { name: launch.user.name } : {}),
      ...(launch.user.email !== undefined ? { email: launch.user.email } : {}),
      ...(launch.user.locale !== undefined ? { locale: launch.user.locale } : {}),
      ...(context?.title !== undefined ? { courseTitle: context.title } : {}),
      registration: enrolmentRegistration(launch.course, launch.user.sub),
      firstLaunchAt: at.toISOString(),
      lastLaunchAt: at.toISOString(),
    };
    let link: ResourceLinkRecord | undefined;
    if (isResourceLinkLaunch(launch.claims)) {
      const rl = launch.claims[CLAIM.resourceLink];
      const lineItem = launch.claims[CLAIM.ags]?.lineitem;
      link = {
        resourceLinkId: rl.id,
        activityId,
        ...(lineItem ? { lineItemUrl: lineItem } : {}),
        ...(rl.title ? { title: rl.title } : {}),
      };
    }
    const state = launch.loginState;
    const services = this.courseServices.launchWrites(launch.course, servicesOf(launch, at), link);
    const expiresAt = usedLoginExpiry(state);
    const alsoWrite: TransactItem[] = [
      { Put: this.usedLogins.claimPut(state.issuer, state.nonce, state.stateId, expiresAt) },
      ...services.items,
      ...(await this.sideEffects(launch, enrolment, activityId)),
    ];
    // Someone this instance recorded minutes ago, unchanged: their enrolment need not be written.
    const current = this.enrolments.writtenRecently(enrolment, at);
    if (current && alsoWrite.length === 1) {
      // The login's single use alone: one conditional put, no transaction.
      await this.attempting(state, async () => {
        const { previous } = await this.usedLogins.claim(state.issuer, state.nonce, state.stateId, expiresAt);
        if (previous !== undefined) throw replayedLoginError(state, previous);
      });
    } else {
      await this.attempting(state, () =>
        this.enrolments.recordLaunch(enrolment, alsoWrite, { enrolment: !current }),
      );
    }
    if (!current) this.enrolments.remember(enrolment, at);
    services.written();
    return enrolment;
  }

  /**
   * The launch's write, run again while it fails for a passing reason (nothing was written): a
   * conflict with another transaction on one of its items (a course's shared items at the start
   * of a class; for the lone claim, the same login's transaction in flight on another instance)
   * or throttling. Then a ConflictError (409), not a 500.
   */
  private async attempting(state: OpenedLoginState, write: () => Promise<void>): Promise<void> {
    const attempts = Math.max(1, this.options.attempts ?? 5);
    for (let attempt = 1; ; attempt++) {
      try {
        await write();
        return;
      } catch (error) {
        const refused = refusal(error, state);
        if (refused !== "passing") throw refused ?? error;
        if (attempt >= attempts) {
          throw new ConflictError(
            "Other launches were being recorded at the same moment, so yours could not be. Please launch the tool again from your course.",
            { cause: error, context: { attempts, issuer: state.issuer } },
          );
        }
        // Refused whole: nothing was written, so the same write can run again. Backing off
        // exponentially, with jitter, so launches that collided do not collide again.
        const ceiling = Math.min(400, 20 * 2 ** (attempt - 1));
        await (this.options.pause ?? sleep)(Math.round(ceiling / 2 + (Math.random() * ceiling) / 2));
      }
    }
  }
}

/** Errors of a single write that pass: it was refused whole, and may succeed a moment later. */
const PASSING_ERRORS = new Set([
  "TransactionConflictException",
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
]);

/**
 * What a refused launch write means: the login was used before (the replay error: the claim
 * failed its condition, and DynamoDB returned the claim that was there), or a passing reason
 * ("passing": nothing was written, it may run again); undefined for anything else, which
 * propagates as it came. A transaction says why in its cancellation reasons; a lone put by the
 * error's name (its replay is already the replay error, from `claim`).
 */
function refusal(
  error: unknown,
  state: OpenedLoginState,
): ReturnType<typeof replayedLoginError> | "passing" | undefined {
  if (error instanceof Error && PASSING_ERRORS.has(error.name)) return "passing";
  if (!(error instanceof TransactionCanceledException)) return undefined;
  const reasons = error.CancellationReasons ?? [];
  const claim = reasons.find(
    (r) => r.Code === "ConditionalCheckFailed" && r.Item?.kind?.S === USED_LOGIN_KIND,
  );
  if (claim) return replayedLoginError(state, previousStateId(claim.Item));
  if (reasons.some((r) => r.Code !== undefined && PASSING.has(r.Code))) return "passing";
  return undefined;
}
