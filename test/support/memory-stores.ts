import {
  NonceReplayedError,
  StateNotBoundError,
  StateReplayedError,
  UnknownStateError,
} from "../../lti-tool/errors.js";
import type {
  DeploymentRecord,
  LoginState,
  LoginStateStore,
  PlatformRegistration,
  RegistrationStore,
  ToolKey,
  ToolKeyStore,
} from "../../lti-tool/ports.js";

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
  async getPlatform(issuer: string, clientId: string) {
    return this.platforms.get(`${issuer} ${clientId}`);
  }
  async getDeployment(issuer: string, clientId: string, deploymentId: string) {
    return this.deployments.get(`${issuer} ${clientId} ${deploymentId}`);
  }
  async savePlatform(platform: PlatformRegistration, deploymentIds: readonly string[]) {
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

export class MemoryLoginStateStore implements LoginStateStore {
  states = new Map<string, LoginState & { consumedAt?: string }>();
  nonces = new Set<string>();

  async saveState(state: LoginState) {
    if (this.states.has(state.state)) throw new Error("state clash");
    this.states.set(state.state, { ...state });
  }
  async peekState(state: string) {
    const s = this.states.get(state);
    return s && s.expiresAt > Date.now() / 1000 ? s : undefined;
  }
  async consumeState(state: string, bindingHash: string, nowSeconds: number) {
    const s = this.states.get(state);
    if (!s || s.expiresAt <= nowSeconds) throw new UnknownStateError("unknown state");
    if (s.consumedAt) throw new StateReplayedError("replayed state");
    if (s.bindingHash !== bindingHash) throw new StateNotBoundError("not bound");
    s.consumedAt = new Date(nowSeconds * 1000).toISOString();
    const { consumedAt: _c, ...rest } = s;
    return rest;
  }
  async useNonce(issuer: string, nonce: string) {
    const k = `${issuer} ${nonce}`;
    if (this.nonces.has(k)) throw new NonceReplayedError("replayed nonce");
    this.nonces.add(k);
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
}
