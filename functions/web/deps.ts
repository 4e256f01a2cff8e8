import type { Enrolment } from "../../domain/enrolment.js";
import type { Framework } from "../../domain/standards/framework.js";
import type { CourseRef } from "../../domain/tenancy.js";
import type { ValidatedLaunch } from "../../lti-tool/launch.js";
import type { PlatformJwksCache } from "../../lti-tool/platform-jwks.js";
import type { LoginStateStore, RegistrationStore } from "../../lti-tool/ports.js";
import type { SessionTokens } from "../../lti-tool/session.js";
import type { ToolSigner } from "../../lti-tool/tool-keys.js";
import type { Logger } from "./log.js";

export interface AppConfig {
  /** Public base URL (https://tool.example). Unset: taken from each request (API Gateway URL). */
  publicUrl?: string;
  /** Cookies get `Secure`: true everywhere; browsers accept Secure cookies on http://localhost and 127.0.0.1. */
  toolName: string;
  /** "local" adds nothing to routes; it only labels logs and pages. The tool never knows which platform launches it. */
  mode: "local" | "aws";
}

/** What the launch causes in storage: the enrolment and its "launched" statement, together. */
export interface LaunchRecorder {
  recordLaunch(launch: ValidatedLaunch, at: Date): Promise<Enrolment>;
}

export interface CohortReader {
  listCourse(course: CourseRef): Promise<Enrolment[]>;
}

export interface AppDeps {
  config: AppConfig;
  registrations: RegistrationStore;
  states: LoginStateStore;
  platformKeys: PlatformJwksCache;
  signer: ToolSigner;
  sessions: SessionTokens;
  launches: LaunchRecorder;
  cohort: CohortReader;
  framework: Framework;
  log: Logger;
  now?: () => Date;
}
