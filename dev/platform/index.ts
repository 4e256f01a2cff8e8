/** The development LTI 1.3 platform (local only, never deployed) and its launch driver. */

export {
  ACTIVITY_PROGRESS,
  GRADING_PROGRESS,
  type GradebookEntry,
  type LineItem,
  type ScoreRecord,
} from "./ags.js";
export {
  AGS_SCOPES,
  CLAIM,
  CONTEXT_TYPE,
  LTI_VERSION,
  MEDIA_TYPE,
  MESSAGE_TYPE,
  ROLE,
  SCOPE,
  SERVICE_SCOPES,
} from "./claims.js";
export { CookieJar, type StoredCookie, type ThirdPartyCookiePolicy } from "./cookie-jar.js";
export type { DeepLinkingResponseRecord } from "./deep-linking.js";
export {
  type BrowserPage,
  type Exchange,
  LaunchFlowError,
  type LaunchOptions,
  type LaunchResult,
  type LaunchStep,
  launch,
  type SubmitFormOptions,
  type SubmitFormResult,
  submitForm,
} from "./driver.js";
export {
  FaultInjector,
  type FaultOptions,
  type FaultStatus,
  type FaultTarget,
  type InjectedFault,
  type ServiceCall,
} from "./faults.js";
export { type ParsedForm, parseForms } from "./html-form.js";
export { ID_TOKEN_LIFETIME_SECONDS } from "./id-token.js";
export { generatePlatformKeyPair, type PlatformKeyPair } from "./keys.js";
export {
  createDevPlatform,
  type DevPlatform,
  type DevPlatformOptions,
  type DevPlatformToolOptions,
  LaunchRefusedError,
  type LaunchRequest,
  type LineItemView,
  type LoginInitiation,
  MOODLE_PATHS,
  type NewLink,
  type PlatformRegistration,
  type PlatformStorageOptions,
  type PlatformUrls,
  type RegisteredTool,
} from "./platform.js";
export { REGISTRATION_TOKEN_LIFETIME_SECONDS, type RegistrationRecord } from "./registration.js";
export { DEFAULT_SEED, type PlatformSeed } from "./seed.js";
export { type RunningDevPlatform, type StartDevPlatformOptions, startDevPlatform } from "./server.js";
export { ACCESS_TOKEN_LIFETIME_SECONDS, type TokenRequestRecord } from "./token.js";
export type { ToolStatus } from "./tools.js";
