import type { Enrolment } from "../../domain/enrolment.js";
import { enrolmentRegistration } from "../../domain/ids.js";
import type { LaunchRecorder } from "../../functions/web/deps.js";
import { CLAIM } from "../../lti-tool/claims.js";
import { isResourceLinkLaunch, type ValidatedLaunch } from "../../lti-tool/launch.js";
import type { CourseServices, ResourceLinkRecord } from "../../lti-tool/ports.js";
import type { DynamoCourseServicesStore } from "./course-services.js";
import type { DynamoEnrolmentStore, TransactItem } from "./enrolments.js";

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

/**
 * One transaction per launch: the enrolment, the course's service endpoints, the placed link's
 * activity and line item, and whatever side effects add (the xAPI outbox): all or nothing.
 */
export class DynamoLaunchRecorder implements LaunchRecorder {
  constructor(
    private readonly enrolments: DynamoEnrolmentStore,
    private readonly courseServices: DynamoCourseServicesStore,
    private readonly sideEffects: LaunchSideEffects = async () => [],
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
    const services = this.courseServices.launchWrites(launch.course, servicesOf(launch, at), link);
    await this.enrolments.recordLaunch(enrolment, [
      ...services.items,
      ...(await this.sideEffects(launch, enrolment, activityId)),
    ]);
    services.written();
    return enrolment;
  }
}
