import type { JSONWebKeySet, JWK } from "jose";

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
  /** Every registration with this client id, whatever its issuer (a client id is normally one LMS's). */
  platformsWithClientId(clientId: string): Promise<PlatformRegistration[]>;
  getDeployment(
    issuer: string,
    clientId: string,
    deploymentId: string,
  ): Promise<DeploymentRecord | undefined>;
  /**
   * Create or replace a registration; its deployments are added, never removed. With
   * `exclusiveClientId`, the client id is taken for this issuer in the same write, and the save
   * throws ClientIdInUseError when another issuer took it first (even a moment before).
   */
  savePlatform(
    platform: PlatformRegistration,
    deploymentIds: readonly string[],
    options?: {
      exclusiveClientId?: boolean;
      /**
       * Never move an existing registration of this issuer and client id to other addresses
       * (auth, token, JWKS URLs): PlatformAlreadyRegisteredError, atomically with the save.
       * Dynamic registration saves with it, so that an LMS registering itself adds a
       * registration and never redirects another's; the administrator's CLI may update.
       */
      keepEndpoints?: boolean;
    },
  ): Promise<void>;
  addDeployment(deployment: DeploymentRecord): Promise<void>;
  listPlatforms(): Promise<{ platform: PlatformRegistration; deployments: DeploymentRecord[] }[]>;
  recordLaunch(issuer: string, clientId: string, deploymentId: string, at: string): Promise<void>;
}

/** A platform's published keys as the tool last fetched them (epoch ms). */
export interface FetchedPlatformKeys {
  jwks: JSONWebKeySet;
  fetchedAt: number;
}

/**
 * Platforms' public keys shared by every instance of the tool, so that a function instance that
 * has just started checks a launch without first fetching the LMS's keys over the internet, and
 * a school's LMS is not asked for them by each instance. Public data, keyed by JWKS URL.
 */
export interface PlatformKeyStore {
  get(jwksUrl: string): Promise<FetchedPlatformKeys | undefined>;
  /**
   * Keep these keys unless keys fetched later are kept already; kept keys dated more than
   * CLOCK_SKEW_MS ahead of the writer's clock are replaced (their writer's clock ran ahead).
   */
  put(jwksUrl: string, keys: FetchedPlatformKeys): Promise<void>;
}

/**
 * How far ahead of an instance's clock another instance's may run before its dates are not
 * believed (ms). Lambda's clocks are synchronised far closer; an instance whose clock ran ahead
 * must not make its keys look newer than any other instance's fetch.
 */
export const CLOCK_SKEW_MS = 60_000;

/** How the login→launch pair is bound to one browser (Security Framework §5.1.1.2, state). */
export type BrowserBinding = "cookie" | "platform-storage";

/**
 * A login in progress, from the OIDC login initiation to the launch. It travels sealed (signed
 * by the tool, short-lived) as the `state` parameter, so starting a login writes nothing; only
 * its use is recorded, once, when the launch arrives.
 */
export interface LoginState {
  nonce: string;
  issuer: string;
  clientId: string;
  deploymentId?: string;
  targetLinkUri: string;
  /** sha256 (base64url) of the browser secret held in the cookie or in platform storage. */
  bindingHash: string;
  binding: BrowserBinding;
  /** Platform Storage target frame (`lti_storage_target`) when the platform offered it. */
  storageTarget?: string;
  /** Epoch seconds. */
  issuedAt: number;
  /** Epoch seconds. */
  expiresAt: number;
}

/** A login state as opened at the launch, with the id its single use is recorded under. */
export interface OpenedLoginState extends LoginState {
  /** sha256 (base64url) of the sealed state value: stable, and short enough for keys and ids. */
  stateId: string;
}

export interface LoginStateStore {
  /** The opaque `state` value for a new login (signed; no storage). */
  seal(state: LoginState): Promise<string>;
  /** The login a `state` value carries, if the tool issued it and it has not expired; else undefined. */
  open(state: string, nowSeconds: number): Promise<OpenedLoginState | undefined>;
  /**
   * Record the login as used, exactly once (one conditional write). Throws StateReplayedError
   * when this state was used before, NonceReplayedError when its nonce was used by another state.
   */
  markUsed(state: OpenedLoginState): Promise<void>;
  /**
   * Spend a one-time id the tool handed out later in a login's flow (the deep-linking picker's
   * answer), exactly once: false when it was spent before. `expiresAt` (epoch seconds) is when the
   * id itself expires; its use is remembered a minute longer, as a login's is.
   */
  spendOnce(issuer: string, id: string, expiresAt: number): Promise<boolean>;
}

/** The single-use record behind LoginStateStore.markUsed (DynamoDB in AWS, memory in unit tests). */
export interface UsedLoginStore {
  /** Insert (issuer, nonce) → stateId unless present; answers the stateId that was there, if any. */
  claim(issuer: string, nonce: string, stateId: string, expiresAt: number): Promise<{ previous?: string }>;
}

/** One of the tool's own signing keys. The private part never leaves the key store's owner. */
export interface ToolKey {
  kid: string;
  alg: "RS256";
  publicJwk: JWK;
  privateJwk: JWK;
  createdAt: string;
  /** When it starts signing (a rotated-in key is published first); absent: from `createdAt`. */
  activeFrom?: string;
  /** When a newer key takes (or took) over signing; it stays published a while after. */
  supersededAt?: string;
}

/**
 * The tool administrator's sessions, ended all at once (the tool has one administrator key, so
 * one administrator's sign-out is everyone's): the instant before which every admin session is
 * refused. Kept with the tool's secrets, so the web app on every instance and `npm run keys`
 * share it; read at every admin request, never cached.
 */
export interface AdminSessionStore {
  /** Epoch milliseconds: admin sessions issued at or before it have ended. Undefined: none ended yet. */
  adminSessionsValidFrom(): Promise<number | undefined>;
  /**
   * End every admin session issued up to `at`. Never moves the instant back: a sign-out by a
   * clock a little behind another's must not bring back a session the other ended.
   */
  endAdminSessions(at: Date): Promise<void>;
}

export interface ToolKeyStore extends AdminSessionStore {
  listKeys(): Promise<ToolKey[]>;
  addKey(key: ToolKey): Promise<void>;
  /**
   * The tool's first key, unless one was ever added before (then false, and nothing written):
   * of instances starting at once on an empty store, one key wins and all sign with it.
   */
  addFirstKey(key: ToolKey): Promise<boolean>;
  markSuperseded(kid: string, at: string): Promise<void>;
  removeKey(kid: string): Promise<void>;
  /** A named random secret (e.g. the session HMAC key), created once on first use. */
  getOrCreateSecret(name: string, create: () => Uint8Array): Promise<Uint8Array>;
  /** Put `value` in place of the named secret, or store it if there was none (the administrator key replaced). */
  replaceSecret(name: string, value: Uint8Array): Promise<void>;
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
