import type { Enrolment } from "../../domain/enrolment.js";
import { enrolmentRegistration } from "../../domain/ids.js";
import type { LaunchRecorder } from "../../functions/web/deps.js";
import type { ValidatedLaunch } from "../../lti-tool/launch.js";
import type { DynamoEnrolmentStore, TransactItem } from "./enrolments.js";

/** Builds the writes a launch causes beyond the enrolment itself (the xAPI outbox items). */
export type LaunchSideEffects = (launch: ValidatedLaunch, enrolment: Enrolment) => Promise<TransactItem[]>;

export class DynamoLaunchRecorder implements LaunchRecorder {
  constructor(
    private readonly enrolments: DynamoEnrolmentStore,
    private readonly sideEffects: LaunchSideEffects = async () => [],
  ) {}

  async recordLaunch(launch: ValidatedLaunch, at: Date): Promise<Enrolment> {
    const role = launch.user.role;
    if (!role) throw new Error("recordLaunch needs a launch with a role");
    const context = launch.claims["https://purl.imsglobal.org/spec/lti/claim/context"];
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
    await this.enrolments.recordLaunch(enrolment, await this.sideEffects(launch, enrolment));
    return enrolment;
  }
}
