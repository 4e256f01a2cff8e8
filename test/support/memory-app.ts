import type { Enrolment } from "../../domain/enrolment.js";
import { enrolmentRegistration } from "../../domain/ids.js";
import { DEFAULT_FRAMEWORK } from "../../domain/standards/framework.js";
import type { CourseRef } from "../../domain/tenancy.js";
import { courseScopeKey } from "../../domain/tenancy.js";
import { createApp } from "../../functions/web/app.js";
import type { AppDeps, CohortReader, LaunchRecorder } from "../../functions/web/deps.js";
import { silentLogger } from "../../functions/web/log.js";
import type { RosterCache } from "../../functions/web/services/cohort.js";
import type { CourseMember } from "../../lti-tool/advantage/nrps.js";
import { NrpsClient } from "../../lti-tool/advantage/nrps.js";
import { PlatformServiceClient } from "../../lti-tool/advantage/service-client.js";
import type { ValidatedLaunch } from "../../lti-tool/launch.js";
import type { CourseServices, LoginStateStore } from "../../lti-tool/ports.js";
import { SessionTokens } from "../../lti-tool/session.js";
import { ADMIN_KEY_SECRET, newAdminKey, StoredKeySigner } from "../../lti-tool/tool-keys.js";
import { MemoryRegistrationLinkStore, MemoryToolKeyStore } from "./memory-stores.js";
import type { testPlatform } from "./test-platform.js";

/** Enrolments in memory, with DynamoLaunchRecorder's contract: the login's single use first, then the write. */
export class MemoryEnrolments implements LaunchRecorder, CohortReader {
  byCourse = new Map<string, Map<string, Enrolment>>();
  constructor(private readonly states: Pick<LoginStateStore, "markUsed">) {}
  async recordLaunch(launch: ValidatedLaunch, at: Date): Promise<Enrolment> {
    await this.states.markUsed(launch.loginState);
    const scope = courseScopeKey(launch.course);
    const course = this.byCourse.get(scope) ?? new Map<string, Enrolment>();
    this.byCourse.set(scope, course);
    const previous = course.get(launch.user.sub);
    const enrolment: Enrolment = {
      course: launch.course,
      userId: launch.user.sub,
      role: launch.user.role ?? "candidate",
      ltiRoles: launch.user.ltiRoles,
      ...(launch.user.name ? { name: launch.user.name } : {}),
      registration: enrolmentRegistration(launch.course, launch.user.sub),
      firstLaunchAt: previous?.firstLaunchAt ?? at.toISOString(),
      lastLaunchAt: at.toISOString(),
    };
    course.set(launch.user.sub, enrolment);
    return enrolment;
  }
  async listCourse(course: CourseRef): Promise<Enrolment[]> {
    return [...(this.byCourse.get(courseScopeKey(course))?.values() ?? [])];
  }
}

/** The real app over in-memory ports, for tests through `app.request()`. */
export async function memoryApp(
  platform: Awaited<ReturnType<typeof testPlatform>>,
  overrides: Partial<AppDeps> = {},
) {
  const enrolments = new MemoryEnrolments(overrides.states ?? platform.states);
  const keyStore = new MemoryToolKeyStore();
  const signer = new StoredKeySigner(keyStore);
  await signer.ensureKey();
  const rosters = new Map<string, { fetchedAt: string; members: CourseMember[] }>();
  const services = new Map<string, CourseServices>();
  const roster: RosterCache = {
    services: async (course) => services.get(courseScopeKey(course)),
    roster: async (course) => rosters.get(courseScopeKey(course)),
    saveRoster: async (course, r) => {
      rosters.set(courseScopeKey(course), r);
    },
  };
  // The administrator key and its sessions' instant live in the key store, as in buildDeps.
  const adminKey = new Uint8Array(24).fill(9);
  keyStore.secrets.set(ADMIN_KEY_SECRET, adminKey);
  const deps: AppDeps = {
    config: { toolName: "HLTA preparation", mode: "local", publicUrl: "https://tool.test" },
    registrations: platform.registrations,
    registrationLinks: new MemoryRegistrationLinkStore(),
    states: platform.states,
    platformKeys: platform.platformKeys,
    signer,
    sessions: new SessionTokens(new Uint8Array(32).fill(7)),
    launches: enrolments,
    cohort: enrolments,
    roster,
    nrps: new NrpsClient(new PlatformServiceClient({ signer, fetch: platform.fetch })),
    adminKey: () => keyStore.getOrCreateSecret(ADMIN_KEY_SECRET, newAdminKey),
    adminSessions: keyStore,
    framework: DEFAULT_FRAMEWORK,
    log: silentLogger,
    ...overrides,
  };
  const app = createApp(deps);
  /** An administrator's session token, signed in with the key as a person does on /admin. */
  const adminToken = async (): Promise<string> => {
    const login = await app.request("/admin/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ key: Buffer.from(adminKey).toString("base64url") }).toString(),
    });
    return new URL(login.headers.get("location") ?? "", "https://tool.test").searchParams.get("s") ?? "";
  };
  return { app, deps, enrolments, keyStore, signer, services, rosters, adminKey, adminToken };
}
