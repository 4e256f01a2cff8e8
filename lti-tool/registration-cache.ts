import { ExpiringCache } from "../domain/expiring-cache.js";
import type { DeploymentRecord, PlatformRegistration, RegistrationStore } from "./ports.js";

/**
 * Registrations change rarely and are read on every login and launch: keep them in memory for
 * a short time (per warm Lambda). A registration removed in the LMS admin still works here for
 * at most `ttlMs`; a newly registered one is seen within `negativeTtlMs`. `lastLaunchAt` is
 * written at most once per `launchWriteEveryMs` per platform and deployment, not per launch.
 */
export class CachedRegistrationStore implements RegistrationStore {
  private readonly cache: ExpiringCache<unknown>;
  private readonly lastLaunchWrite = new Map<string, number>();

  constructor(
    private readonly inner: RegistrationStore,
    private readonly options: {
      ttlMs?: number;
      negativeTtlMs?: number;
      launchWriteEveryMs?: number;
      now?: () => number;
    } = {},
  ) {
    // Misses (nothing registered) are kept briefly, so a new registration is seen soon.
    this.cache = new ExpiringCache(
      (value) =>
        value === undefined || (Array.isArray(value) && value.length === 0)
          ? (options.negativeTtlMs ?? 5_000)
          : (options.ttlMs ?? 60_000),
      () => this.now,
    );
  }

  private get now(): number {
    return (this.options.now ?? Date.now)();
  }

  private cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    return this.cache.get(key, load) as Promise<T>;
  }

  platformsByIssuer(issuer: string): Promise<PlatformRegistration[]> {
    return this.cached(`i\n${issuer}`, () => this.inner.platformsByIssuer(issuer));
  }
  getPlatform(issuer: string, clientId: string): Promise<PlatformRegistration | undefined> {
    return this.cached(`p\n${issuer}\n${clientId}`, () => this.inner.getPlatform(issuer, clientId));
  }
  /** Not cached: asked only when a registration is saved. */
  platformsWithClientId(clientId: string): Promise<PlatformRegistration[]> {
    return this.inner.platformsWithClientId(clientId);
  }
  getDeployment(
    issuer: string,
    clientId: string,
    deploymentId: string,
  ): Promise<DeploymentRecord | undefined> {
    return this.cached(`d\n${issuer}\n${clientId}\n${deploymentId}`, () =>
      this.inner.getDeployment(issuer, clientId, deploymentId),
    );
  }
  async savePlatform(
    platform: PlatformRegistration,
    deploymentIds: readonly string[],
    options?: { exclusiveClientId?: boolean },
  ): Promise<void> {
    await this.inner.savePlatform(platform, deploymentIds, options);
    this.cache.clear();
  }
  async addDeployment(deployment: DeploymentRecord): Promise<void> {
    await this.inner.addDeployment(deployment);
    this.cache.clear();
  }
  listPlatforms() {
    return this.inner.listPlatforms();
  }
  async recordLaunch(issuer: string, clientId: string, deploymentId: string, at: string): Promise<void> {
    const key = `${issuer}\n${clientId}\n${deploymentId}`;
    const last = this.lastLaunchWrite.get(key);
    const now = this.now;
    if (last !== undefined && now - last < (this.options.launchWriteEveryMs ?? 15 * 60_000)) return;
    this.lastLaunchWrite.set(key, now);
    try {
      await this.inner.recordLaunch(issuer, clientId, deploymentId, at);
    } catch (error) {
      // Not written: the next launch tries again (unless a later launch has claimed the slot).
      if (this.lastLaunchWrite.get(key) === now) this.lastLaunchWrite.delete(key);
      throw error;
    }
  }
}
