import type { Enrolment } from "../../domain/enrolment.js";
import type { Framework } from "../../domain/standards/framework.js";
import type { CourseRef } from "../../domain/tenancy.js";
import type { NrpsClient } from "../../lti-tool/advantage/nrps.js";
import type { ValidatedLaunch } from "../../lti-tool/launch.js";
import type { PlatformJwksCache } from "../../lti-tool/platform-jwks.js";
import type { AdminSessionStore, LoginStateStore, RegistrationStore } from "../../lti-tool/ports.js";
import type { RegistrationLinkStore } from "../../lti-tool/registration-links.js";
import type { SessionTokens } from "../../lti-tool/session.js";
import type { ToolSigner } from "../../lti-tool/tool-keys.js";
import type { Logger } from "./log.js";
import type { RosterCache } from "./services/cohort.js";

export interface AppConfig {
  /** Public base URL (https://tool.example). Unset: taken from each request (API Gateway URL). */
  publicUrl?: string;
  toolName: string;
  /** Labels logs only: the tool never knows which platform launches it. */
  mode: "local" | "aws";
}

/** What the launch causes in storage: the enrolment, the course's service endpoints, the xAPI statement. */
export interface LaunchRecorder {
  /**
   * Record a checked launch (`checkLaunch`) and the single use of its state and nonce, all or
   * nothing. Throws StateReplayedError or NonceReplayedError, as `LoginStateStore.markUsed`
   * does, when the login was used before, and then writes nothing.
   */
  recordLaunch(launch: ValidatedLaunch, at: Date, activityId: string): Promise<Enrolment>;
}

export interface CohortReader {
  listCourse(course: CourseRef): Promise<Enrolment[]>;
}

/** A parked item an administrator can see and replay (grades here; xAPI has its own page). */
export interface ParkedGrades {
  parked(): Promise<
    {
      course: CourseRef;
      userId: string;
      activityId: string;
      jobId: string;
      lastError?: { reason: string; status?: number; body?: string };
    }[]
  >;
  replay(course: CourseRef, activityId: string, userId: string, jobId: string): Promise<void>;
}

export interface AppDeps {
  config: AppConfig;
  registrations: RegistrationStore;
  /** Dynamic registration works only through a link the provider created. */
  registrationLinks: RegistrationLinkStore;
  states: LoginStateStore;
  platformKeys: PlatformJwksCache;
  signer: ToolSigner;
  sessions: SessionTokens;
  launches: LaunchRecorder;
  cohort: CohortReader;
  roster: RosterCache;
  nrps: NrpsClient;
  framework: Framework;
  log: Logger;
  /** Outbound HTTP for dynamic registration (injectable in tests). */
  fetch?: typeof fetch;
  /**
   * The tool administrator's key (admin pages); compared in constant time. Read at each sign-in,
   * never kept: a key replaced (`npm run keys -- admin-key --replace`) stops at once everywhere.
   */
  adminKey(): Promise<Uint8Array>;
  /** When the administration sessions still open began: a sign-out, or a replaced key, ends the rest. */
  adminSessions: AdminSessionStore;
  grades?: ParkedGrades;
  /** Extra admin sub-apps mounted under /admin (xAPI delivery). */
  adminApps?: { path: string; title: string; app: import("hono").Hono<import("./http.js").Env> }[];
  now?: () => Date;
}
