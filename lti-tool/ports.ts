import type { JWK } from "jose";

/** A platform (LMS) registration, as an administrator enters it or dynamic registration stores it. */
export interface PlatformRegistration {
  issuer: string;
  clientId: string;
  authUrl: string;
  tokenUrl: string;
  jwksUrl: string;
  /** `aud` for client-credentials assertions when it differs from the token URL. */
  authServer?: string;
  name?: string;
  /** Product family from the first launch or registration (moodle, canvas, …). */
  productFamily?: string;
  createdAt: string;
  lastLaunchAt?: string;
}

export interface DeploymentRecord {
  issuer: string;
  clientId: string;
  deploymentId: string;
  createdAt: string;
  lastLaunchAt?: string;
}

export interface RegistrationStore {
  /** All registrations of one issuer (several client_ids may share it). */
  platformsByIssuer(issuer: string): Promise<PlatformRegistration[]>;
  getPlatform(issuer: string, clientId: string): Promise<PlatformRegistration | undefined>;
  getDeployment(
    issuer: string,
    clientId: string,
    deploymentId: string,
  ): Promise<DeploymentRecord | undefined>;
  /** Create or replace a registration; its deployments are added, never removed. */
  savePlatform(platform: PlatformRegistration, deploymentIds: readonly string[]): Promise<void>;
  addDeployment(deployment: DeploymentRecord): Promise<void>;
  listPlatforms(): Promise<{ platform: PlatformRegistration; deployments: DeploymentRecord[] }[]>;
  recordLaunch(issuer: string, clientId: string, deploymentId: string, at: string): Promise<void>;
}

/** How the login→launch pair is bound to one browser (Security Framework §5.1.1.2, state). */
export type BrowserBinding = "cookie" | "platform-storage";

export interface LoginState {
  state: string;
  nonce: string;
  issuer: string;
  clientId: string;
  deploymentId?: string;
  targetLinkUri: string;
  /** sha256 (base64url) of the browser secret held in the cookie or in platform storage. */
  bindingHash: string;
  binding: BrowserBinding;
  /** Where the login continues at the platform (OIDC auth request), once the binding is confirmed. */
  authRedirectUrl: string;
  /** The original login request, to re-initiate in a new window when the frame has no cookies. */
  loginParams: Record<string, string>;
  createdAt: string;
  /** Epoch seconds. */
  expiresAt: number;
}

export interface LoginStateStore {
  /** Store a new state; never overwrites (the state is random, a clash is a bug). */
  saveState(state: LoginState): Promise<void>;
  /** Read without consuming: the launch page needs it to pick the binding check. */
  peekState(state: string): Promise<LoginState | undefined>;
  /**
   * Consume a state exactly once, and only with the browser's proof of binding.
   * Throws UnknownStateError (never issued or expired), StateReplayedError (already used),
   * StateNotBoundError (binding proof wrong).
   */
  consumeState(state: string, bindingHash: string, nowSeconds: number): Promise<LoginState>;
  /** Record a nonce as used; throws NonceReplayedError if it was used before. */
  useNonce(issuer: string, nonce: string, expiresAt: number): Promise<void>;
}

/** One of the tool's own signing keys. The private part never leaves the key store's owner. */
export interface ToolKey {
  kid: string;
  alg: "RS256";
  publicJwk: JWK;
  privateJwk: JWK;
  createdAt: string;
  /** Set when a newer key took over; still published until `retiredAt`. */
  supersededAt?: string;
}

export interface ToolKeyStore {
  listKeys(): Promise<ToolKey[]>;
  addKey(key: ToolKey): Promise<void>;
  markSuperseded(kid: string, at: string): Promise<void>;
  removeKey(kid: string): Promise<void>;
  /** A named random secret (e.g. the session HMAC key), created once on first use. */
  getOrCreateSecret(name: string, create: () => Uint8Array): Promise<Uint8Array>;
}

/** LTI Advantage endpoints a course's launches announced (AGS §3.1, NRPS §3.6.1). */
export interface CourseServices {
  lineItemsUrl?: string;
  agsScopes: string[];
  membershipsUrl?: string;
  updatedAt: string;
}

/** A resource link placed in a course: what it opens, and its own line item if it has one. */
export interface ResourceLinkRecord {
  resourceLinkId: string;
  activityId: string;
  lineItemUrl?: string;
  title?: string;
}
