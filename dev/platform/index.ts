/** The development LTI 1.3 platform (local only, never deployed) and its launch driver. */
export { CLAIM, CONTEXT_TYPE, LTI_VERSION, MESSAGE_TYPE, ROLE } from "./claims.js";
export { CookieJar, type StoredCookie, type ThirdPartyCookiePolicy } from "./cookie-jar.js";
export {
  type Exchange,
  LaunchFlowError,
  type LaunchOptions,
  type LaunchResult,
  type LaunchStep,
  launch,
} from "./driver.js";
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
  type LoginInitiation,
  MOODLE_PATHS,
  type PlatformRegistration,
  type RegisteredTool,
} from "./platform.js";
export { DEFAULT_SEED, type PlatformSeed } from "./seed.js";
export { type RunningDevPlatform, type StartDevPlatformOptions, startDevPlatform } from "./server.js";
