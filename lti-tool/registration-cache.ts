import type { DeploymentRecord, PlatformRegistration, RegistrationStore } from "./ports.js";

/**
 * Registrations change rarely and are read on every login and launch: keep them in memory for
 * a short time (per warm Lambda). A registration removed in the LMS admin still works here for
 * at most `ttlMs`; a newly registered one is seen within `negativeTtlMs`. `lastLaunchAt` is
 * written at most once per `launchWriteEveryMs` per platform and deployment, not per launch.
 */
export class CachedRegistrationStore implements RegistrationStore {
  private readonly cache = new Map<string, { value: unknown; until: number }>();
  private readonly lastLaunchWrite = new Map<string, number>();

  constructor(
    private readonly inner: RegistrationStore,
    private readonly options: {
      ttlMs?: number;
      negativeTtlMs?: number;
      launchWriteEveryMs?: number;
      now?: () => number;
    } = {},
  ) {}

  private get now(): number {
    return (this.options.now ?? Date.now)();
  }

  private async cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now) return hit.value as T;
    const value = await load();
    const ttl =
      value === undefined || (Array.isArray(value) && value.length === 0)
        ? (this.options.negativeTtlMs ?? 5_000)
        : (this.options.ttlMs ?? 60_000);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { value, until: this.now + ttl });
    return value;
  }

  platformsByIssuer(issuer: string): Promise<PlatformRegistration[]> {
    return this.cached(`i\n${issuer}`, () => this.inner.platformsByIssuer(issuer));
  }
  getPlatform(issuer: string, clientId: string): Promise<PlatformRegistration | undefined> {
    return this.cached(`p\n${issuer}\n${clientId}`, () => this.inner.getPlatform(issuer, clientId));
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
  async savePlatform(platform: PlatformRegistration, deploymentIds: readonly string[]): Promise<void> {
    await this.inner.savePlatform(platform, deploymentIds);
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
    if (last !== undefined && this.now - last < (this.options.launchWriteEveryMs ?? 15 * 60_000)) return;
    this.lastLaunchWrite.set(key, this.now);
    await this.inner.recordLaunch(issuer, clientId, deploymentId, at);
  }
}
