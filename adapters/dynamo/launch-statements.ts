import { EventEmailSchema, LaunchedSchema, languageTag } from "../../domain/events.js";
import { ExpiringCache } from "../../domain/expiring-cache.js";
import { wellFormedClip } from "../../domain/text.js";
import type { Logger } from "../../functions/web/log.js";
import { CLAIM } from "../../lti-tool/claims.js";
import { isResourceLinkLaunch } from "../../lti-tool/launch.js";
import type { TenantXapiTarget } from "../../statements/ports.js";
import { TENANT_TARGETS_TTL_MS } from "../../statements/route-removal.js";
import type { LaunchSideEffects } from "./launch-recorder.js";
import type { XapiOutboxWriter } from "./outbox.js";

/** A tenant's xAPI routes change rarely and are needed on every launch: cache them briefly. */
export function cachedTenantTargets(
  resolve: (tenant: { issuer: string; clientId: string; deploymentId: string }) => Promise<TenantXapiTarget>,
  ttlMs = TENANT_TARGETS_TTL_MS,
  now: () => number = Date.now,
) {
  const cache = new ExpiringCache<TenantXapiTarget>(() => ttlMs, now);
  return (tenant: { issuer: string; clientId: string; deploymentId: string }): Promise<TenantXapiTarget> =>
    cache.get(`${tenant.issuer}\n${tenant.clientId}\n${tenant.deploymentId}`, () => resolve(tenant));
}

/**
 * The "launched" statement of a resource-link launch, written to the outbox in the launch's own
 * transaction. A launch whose data does not make a valid event is still a launch: the candidate
 * gets in, the problem is logged, and no invalid statement is queued.
 */
export function launchStatements(writer: XapiOutboxWriter, log: Logger): LaunchSideEffects {
  return async (launch, enrolment) => {
    if (!isResourceLinkLaunch(launch.claims)) return [];
    const link = launch.claims[CLAIM.resourceLink];
    const context = launch.claims[CLAIM.context];
    const locale = languageTag(launch.user.locale) ?? "en";
    // LaunchedSchema, the one DomainEventSchema picks for a "launched" event, built at import.
    const parsed = LaunchedSchema.safeParse({
      type: "launched",
      // The state is single-use and random: one event per launch, the same id if it is retried.
      eventId: `launch:${launch.loginState.stateId}`,
      occurredAt: enrolment.lastLaunchAt,
      course: { ...launch.course, ...(context?.title ? { title: wellFormedClip(context.title, 500) } : {}) },
      actor: {
        iss: launch.tenant.issuer,
        sub: launch.user.sub,
        ...(launch.user.name ? { name: wellFormedClip(launch.user.name, 500) } : {}),
        // An address the event would refuse is left out, not the whole statement: only an mbox
        // tenant uses it, and its statement then names the LTI account instead (with a note).
        ...(launch.user.email && EventEmailSchema.safeParse(launch.user.email).success
          ? { email: launch.user.email }
          : {}),
      },
      registration: enrolment.registration,
      locale,
      payload: {
        resourceLinkId: link.id,
        ...(link.title ? { resourceTitle: wellFormedClip(link.title, 500) } : {}),
      },
    });
    if (!parsed.success) {
      log.error("xapi.launch_event_invalid", {
        issues: parsed.error.issues.slice(0, 5),
        issuer: launch.tenant.issuer,
      });
      return [];
    }
    const { items, notes } = await writer.transactItemsFor([parsed.data]);
    if (notes.length) log.warn("xapi.statement_notes", { notes, issuer: launch.tenant.issuer });
    return items;
  };
}
