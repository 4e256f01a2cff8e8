import { SealedLoginStates } from "../../lti-tool/login-state.js";
import type {
  DeploymentRecord,
  FetchedPlatformKeys,
  PlatformKeyStore,
  PlatformRegistration,
  RegistrationStore,
  ToolKey,
  ToolKeyStore,
  UsedLoginStore,
} from "../../lti-tool/ports.js";
import { CLOCK_SKEW_MS } from "../../lti-tool/ports.js";
import { clientIdInUse, platformAlreadyRegistered, sameEndpoints } from "../../lti-tool/registration.js";
import type { RegistrationLink, RegistrationLinkStore } from "../../lti-tool/registration-links.js";
import { SessionTokens } from "../../lti-tool/session.js";

/**
 * In-memory fakes of the ports with the same contract as the DynamoDB adapters (the
 * integration tests run the same behaviours against DynamoDB Local).
 */
export class MemoryRegistrationStore implements RegistrationStore {
  platforms = new Map<string, PlatformRegistration>();
  deployments = new Map<string, DeploymentRecord>();

  async platformsByIssuer(issuer: string) {
    return [...this.platforms.values()].filter((p) => p.issuer === issuer);
  }
  async platformsWithClientId(clientId: string) {
    return [...this.platforms.values()].filter((p) => p.clientId === clientId);
  }
  async getPlatform(issuer: string, clientId: string) {
    return this.platforms.get(`${issuer} ${clientId}`);
  }
  async getDeployment(issuer: string, clientId: string, deploymentId: string) {
    return this.deployments.get(`${issuer} ${clientId} ${deploymentId}`);
  }
  /** Which issuer took each client id (as the DynamoDB store's owner items do). */
  clientIdOwners = new Map<string, string>();
  async savePlatform(
    platform: PlatformRegistration,
    deploymentIds: readonly string[],
    options: { exclusiveClientId?: boolean; keepEndpoints?: boolean } = {},
  ) {
    const kept = this.platforms.get(`${platform.issuer} ${platform.clientId}`);
    if (options.keepEndpoints && kept && !sameEndpoints(kept, platform)) {
      throw platformAlreadyRegistered(platform.issuer, platform.clientId);
    }
    if (options.exclusiveClientId) {
      const owner = this.clientIdOwners.get(platform.clientId);
      if (owner !== undefined && owner !== platform.issuer) {
        throw clientIdInUse(platform.clientId, platform.issuer, [owner]);
      }
      this.clientIdOwners.set(platform.clientId, platform.issuer);
    }
    this.platforms.set(`${platform.issuer} ${platform.clientId}`, platform);
    for (const deploymentId of deploymentIds) {
      await this.addDeployment({
        issuer: platform.issuer,
        clientId: platform.clientId,
        deploymentId,
        createdAt: platform.createdAt,
      });
    }
  }
  async addDeployment(d: DeploymentRecord) {
    const k = `${d.issuer} ${d.clientId} ${d.deploymentId}`;
    if (!this.deployments.has(k)) this.deployments.set(k, d);
  }
  async listPlatforms() {
    return [...this.platforms.values()].map((platform) => ({
      platform,
      deployments: [...this.deployments.values()].filter(
        (d) => d.issuer === platform.issuer && d.clientId === platform.clientId,
      ),
    }));
  }
  async recordLaunch(issuer: string, clientId: string, deploymentId: string, at: string) {
    const p = this.platforms.get(`${issuer} ${clientId}`);
    if (p) p.lastLaunchAt = at;
    const d = this.deployments.get(`${issuer} ${clientId} ${deploymentId}`);
    if (d) d.lastLaunchAt = at;
  }
}

/** The single-use record in memory, with DynamoUsedLoginStore's contract. */
export class MemoryUsedLoginStore implements UsedLoginStore {
  used = new Map<string, string>();
  async claim(issuer: string, nonce: string, stateId: string, _expiresAt: number) {
    const k = `${issuer} ${nonce}`;
    const previous = this.used.get(k);
    if (previous !== undefined) return { previous };
    this.used.set(k, stateId);
    return {};
  }
}

/** Sealed login states as in production (real HS256 sealing), single use in memory. */
export class MemoryLoginStateStore extends SealedLoginStates {
  readonly used: MemoryUsedLoginStore;
  constructor(secret: Uint8Array = new Uint8Array(32).fill(9)) {
    const used = new MemoryUsedLoginStore();
    super(new SessionTokens(secret), used);
    this.used = used;
  }
}

export class MemoryToolKeyStore implements ToolKeyStore {
  keys: ToolKey[] = [];
  secrets = new Map<string, Uint8Array>();
  async listKeys() {
    return this.keys.map((k) => ({ ...k }));
  }
  async addKey(key: ToolKey) {
    this.keys.push(key);
  }
  firstKid: string | undefined;
  async addFirstKey(key: ToolKey) {
    if (this.firstKid !== undefined || this.keys.length > 0) return false;
    this.firstKid = key.kid;
    this.keys.push(key);
    return true;
  }
  async markSuperseded(kid: string, at: string) {
    for (const k of this.keys) if (k.kid === kid) k.supersededAt = at;
  }
  async removeKey(kid: string) {
    this.keys = this.keys.filter((k) => k.kid !== kid);
  }
  async getOrCreateSecret(name: string, create: () => Uint8Array) {
    const existing = this.secrets.get(name);
    if (existing) return existing;
    const v = create();
    this.secrets.set(name, v);
    return v;
  }
  async replaceSecret(name: string, value: Uint8Array) {
    this.secrets.set(name, value);
  }
  adminSessionsFrom: number | undefined;
  async adminSessionsValidFrom() {
    return this.adminSessionsFrom;
  }
  async endAdminSessions(at: Date) {
    this.adminSessionsFrom = Math.max(this.adminSessionsFrom ?? at.getTime(), at.getTime());
  }
}

export class MemoryRegistrationLinkStore implements RegistrationLinkStore {
  links = new Map<string, RegistrationLink>();
  requests = new Set<string>();
  async save(link: RegistrationLink) {
    this.links.set(link.id, { ...link });
  }
  async saveForRequest(link: RegistrationLink & { requestId: string }) {
    if (this.requests.has(link.requestId)) return false;
    this.requests.add(link.requestId);
    this.links.set(link.id, { ...link });
    return true;
  }
  async get(id: string) {
    const link = this.links.get(id);
    return link ? { ...link } : undefined;
  }
  async claim(id: string, nowSeconds: number, untilSeconds: number) {
    const link = this.links.get(id);
    if (!link || link.usedAt || (link.claimedUntil !== undefined && link.claimedUntil > nowSeconds))
      return false;
    this.links.set(id, { ...link, claimedUntil: untilSeconds });
    return true;
  }
  async release(id: string) {
    const link = this.links.get(id);
    if (link) this.links.set(id, { ...link, claimedUntil: undefined });
  }
  async markUsed(id: string, usedAt: string, by: { issuer: string; clientId: string }, keepUntil?: number) {
    const link = this.links.get(id);
    if (!link || link.usedAt) return false;
    this.links.set(id, {
      ...link,
      usedAt,
      usedBy: by,
      claimedUntil: undefined,
      ...(keepUntil === undefined ? {} : { expiresAt: keepUntil }),
    });
    return true;
  }
  async list(nowSeconds: number) {
    return [...this.links.values()]
      .filter((l) => l.expiresAt > nowSeconds)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
  async remove(id: string) {
    this.links.delete(id);
  }
}

/** Shared platform keys; like the DynamoDB store, keys fetched later are not overwritten by older ones. */
export class MemoryPlatformKeyStore implements PlatformKeyStore {
  entries = new Map<string, FetchedPlatformKeys>();
  gets = 0;
  puts = 0;
  /** The writer's clock, for the contract's "dated too far ahead" (the DynamoDB store's is its own). */
  constructor(private readonly now: () => number = Date.now) {}

  async get(jwksUrl: string) {
    this.gets++;
    const found = this.entries.get(jwksUrl);
    return found ? structuredClone(found) : undefined;
  }
  async put(jwksUrl: string, keys: FetchedPlatformKeys) {
    this.puts++;
    const kept = this.entries.get(jwksUrl);
    if (!kept || kept.fetchedAt <= keys.fetchedAt || kept.fetchedAt > this.now() + CLOCK_SKEW_MS) {
      this.entries.set(jwksUrl, structuredClone(keys));
    }
  }
}
