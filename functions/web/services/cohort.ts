import { untilAborted } from "../../../domain/abort.js";
import type { Enrolment } from "../../../domain/enrolment.js";
import type { CourseRef } from "../../../domain/tenancy.js";
import type { CourseMember, NrpsClient } from "../../../lti-tool/advantage/nrps.js";
import type { CourseServices, PlatformRegistration } from "../../../lti-tool/ports.js";
import type { Logger } from "../log.js";
import { utcMinute } from "../views/time.js";

export interface RosterCache {
  services(course: CourseRef): Promise<CourseServices | undefined>;
  roster(course: CourseRef): Promise<{ fetchedAt: string; members: CourseMember[] } | undefined>;
  saveRoster(course: CourseRef, roster: { fetchedAt: string; members: CourseMember[] }): Promise<void>;
}

export interface CohortEntry {
  userId: string;
  name?: string;
  /** From the launch records; undefined when the candidate has not opened the tool yet. */
  firstLaunchAt?: string;
  lastLaunchAt?: string;
  inRoster: boolean;
}

export interface Cohort {
  candidates: CohortEntry[];
  /** When the LMS roster was last read; undefined when the course offers no NRPS. */
  rosterFetchedAt?: string;
  /** Set when the LMS could not be asked and an older roster (or none) is shown. */
  rosterProblem?: string;
  /** Set when the course has no class list to ask for: only candidates who have launched are shown. */
  rosterUnavailable?: string;
}

const NO_CLASS_LIST =
  "Your LMS does not share this course's class list with the tool (its Names and Role Provisioning service is not turned on for the tool), so only candidates who have opened the tool are shown.";

/**
 * A tutor's cohort: everyone the LMS lists as a candidate (NRPS), including those who have not
 * opened the tool, merged with who has launched. The roster is cached and refreshed when
 * older than `maxAgeMs`; a failing LMS never hides the cohort, it shows the last known one.
 */
export async function loadCohort(args: {
  course: CourseRef;
  platform: PlatformRegistration | undefined;
  enrolments: Enrolment[];
  cache: RosterCache;
  nrps: NrpsClient;
  log: Logger;
  now?: Date;
  maxAgeMs?: number;
  /** How long the page waits for the LMS's list before showing what it has (the web function stops at 10 s). */
  rosterWaitMs?: number;
}): Promise<Cohort> {
  const now = args.now ?? new Date();
  const maxAge = args.maxAgeMs ?? 15 * 60_000;
  let roster = await args.cache.roster(args.course);
  let rosterProblem: string | undefined;
  const stale = !roster || now.getTime() - Date.parse(roster.fetchedAt) > maxAge;
  if (stale && args.platform) {
    const services = await args.cache.services(args.course);
    if (services?.membershipsUrl) {
      const wait = AbortSignal.timeout(args.rosterWaitMs ?? 6_000);
      try {
        const members = await untilAborted(
          args.nrps.members(args.platform, services.membershipsUrl, { signal: wait }),
          wait,
        );
        roster = { fetchedAt: now.toISOString(), members };
        // Keeping it is an optimisation: a failure here is ours, logged, and the fresh list shows.
        await args.cache.saveRoster(args.course, roster).catch((error: unknown) => {
          args.log.warn("nrps.roster_not_saved", {
            error,
            issuer: args.platform?.issuer,
            members: members.length,
          });
        });
      } catch (error) {
        args.log.warn("nrps.refresh_failed", { error, issuer: args.platform.issuer });
        rosterProblem = roster
          ? `The LMS could not be asked for the latest class list; this one is from ${utcMinute(roster.fetchedAt)}.`
          : "The LMS could not be asked for the class list; only candidates who have opened the tool are shown.";
      }
    }
  }
  const launched = new Map(args.enrolments.filter((e) => e.role === "candidate").map((e) => [e.userId, e]));
  const entries = new Map<string, CohortEntry>();
  for (const m of roster?.members ?? []) {
    if (m.role !== "candidate" || m.status !== "Active") continue;
    const e = launched.get(m.userId);
    entries.set(m.userId, {
      userId: m.userId,
      ...((m.name ?? e?.name) ? { name: m.name ?? e?.name } : {}),
      ...(e ? { firstLaunchAt: e.firstLaunchAt, lastLaunchAt: e.lastLaunchAt } : {}),
      inRoster: true,
    });
  }
  // Someone the list names with another role or status (withdrawn, now a tutor) is not shown as a
  // candidate; someone it does not name yet (joined since it was read) is, marked as not on it.
  const listed = new Set((roster?.members ?? []).map((m) => m.userId));
  for (const e of launched.values()) {
    if (!entries.has(e.userId) && !listed.has(e.userId)) {
      entries.set(e.userId, {
        userId: e.userId,
        ...(e.name ? { name: e.name } : {}),
        firstLaunchAt: e.firstLaunchAt,
        lastLaunchAt: e.lastLaunchAt,
        inRoster: false,
      });
    }
  }
  const candidates = [...entries.values()].sort((a, b) =>
    (a.name ?? a.userId).localeCompare(b.name ?? b.userId),
  );
  return {
    candidates,
    ...(roster ? { rosterFetchedAt: roster.fetchedAt } : {}),
    ...(rosterProblem ? { rosterProblem } : {}),
    // No list and no failure to get one: the course offers none to ask for.
    ...(!roster && !rosterProblem ? { rosterUnavailable: NO_CLASS_LIST } : {}),
  };
}
