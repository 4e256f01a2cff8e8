import * as z from "../domain/zod.js";
import { sha256b64url, timingSafeEqualText } from "./crypto.js";
import { NonceReplayedError, StateReplayedError, UnknownStateError, undefinedIfInvalid } from "./errors.js";
import type { LoginState, LoginStateStore, OpenedLoginState, UsedLoginStore } from "./ports.js";

/** Signs a small payload for a round trip through the browser, and checks it on the way back. */
export interface Sealer {
  seal(audience: string, payload: Record<string, unknown>, ttlSeconds: number, now?: Date): Promise<string>;
  /** Throws InvalidSessionError when the value is forged, expired or for another audience. */
  open(audience: string, token: string | undefined, now?: Date): Promise<Record<string, unknown>>;
}

const STATE_AUDIENCE = "hlta-lti-state";

/** Whether `secret` is the browser secret this login was bound to (hashes compared in constant time). */
export function holdsBrowserSecret(
  login: Pick<LoginState, "bindingHash">,
  secret: string | undefined,
): boolean {
  return (
    secret !== undefined && secret !== "" && timingSafeEqualText(sha256b64url(secret), login.bindingHash)
  );
}

/** A state the tool did not seal, or sealed too long ago: the user's way back is a new launch. */
export function unknownStateError(): UnknownStateError {
  return new UnknownStateError("This launch was not started by the tool, or it took too long.");
}

/** The sealed form: short keys, because the value travels in the platform's URLs and forms. */
const SealedStateSchema = z.object({
  n: z.string().check(z.minLength(1)),
  i: z.string().check(z.minLength(1)),
  c: z.string().check(z.minLength(1)),
  d: z.optional(z.string().check(z.minLength(1))),
  t: z.string().check(z.minLength(1)),
  b: z.string().check(z.minLength(1)),
  m: z.enum(["cookie", "platform-storage"]),
  st: z.optional(z.string().check(z.minLength(1))),
  iat: z.number(),
  exp: z.number(),
});

/**
 * Login states sealed into the OIDC `state` parameter (Security Framework §5.1.1.2 leaves its
 * form to the tool): HS256 with the tool's session secret, expiring with the login. A login
 * therefore costs no write; the launch records the state's use with one conditional write
 * (`markUsed`, or the same claim inside the launch's own transaction: `usedLoginExpiry` and
 * `replayedLoginError` serve both), which makes state and nonce single-use together (the nonce
 * lives inside the state, and the launch checks the id_token's nonce against it).
 */
export class SealedLoginStates implements LoginStateStore {
  constructor(
    private readonly sealer: Sealer,
    private readonly usedLogins: UsedLoginStore,
  ) {}

  async seal(state: LoginState): Promise<string> {
    const payload = {
      n: state.nonce,
      i: state.issuer,
      c: state.clientId,
      ...(state.deploymentId ? { d: state.deploymentId } : {}),
      t: state.targetLinkUri,
      b: state.bindingHash,
      m: state.binding,
      ...(state.storageTarget ? { st: state.storageTarget } : {}),
    };
    return this.sealer.seal(
      STATE_AUDIENCE,
      payload,
      state.expiresAt - state.issuedAt,
      new Date(state.issuedAt * 1000),
    );
  }

  async open(state: string, nowSeconds: number): Promise<OpenedLoginState | undefined> {
    if (!state || state.length > 8192) return undefined;
    // Forged, expired or for another purpose: not ours (undefined). Failing to load the secret
    // is not the user's doing and propagates (a 500, not "this launch was not started here").
    const opened = await this.sealer
      .open(STATE_AUDIENCE, state, new Date(nowSeconds * 1000))
      .catch(undefinedIfInvalid);
    const parsed = SealedStateSchema.safeParse(opened);
    if (!parsed.success) return undefined;
    const s = parsed.data;
    return {
      nonce: s.n,
      issuer: s.i,
      clientId: s.c,
      ...(s.d ? { deploymentId: s.d } : {}),
      targetLinkUri: s.t,
      bindingHash: s.b,
      binding: s.m,
      ...(s.st ? { storageTarget: s.st } : {}),
      issuedAt: s.iat,
      expiresAt: s.exp,
      stateId: sha256b64url(state),
    };
  }

  async markUsed(state: OpenedLoginState): Promise<void> {
    const { previous } = await this.usedLogins.claim(
      state.issuer,
      state.nonce,
      state.stateId,
      usedLoginExpiry(state),
    );
    if (previous !== undefined) throw replayedLoginError(state, previous);
  }

  async spendOnce(issuer: string, id: string, expiresAt: number): Promise<boolean> {
    // Beside the login nonces, which are base64url and so never start with "once:".
    const { previous } = await this.usedLogins.claim(issuer, `once:${id}`, id, expiresAt + 60);
    return previous === undefined;
  }
}

/** Until when a login's use is remembered: a minute past the state's expiry, when the state itself is refused as expired. */
export function usedLoginExpiry(state: OpenedLoginState): number {
  return state.expiresAt + 60;
}

/**
 * The error for a login whose use was already recorded, given the state id recorded then:
 * the same state (a replayed launch) or another state with the same nonce (a replayed token).
 * Shared by `markUsed` and by stores that record the use inside a larger write.
 */
export function replayedLoginError(
  state: OpenedLoginState,
  previousStateId: string,
): StateReplayedError | NonceReplayedError {
  const message = "This launch has already been used: a page was reloaded or sent again.";
  if (previousStateId === state.stateId) {
    return new StateReplayedError(message, { context: { state: `${state.stateId.slice(0, 8)}…` } });
  }
  return new NonceReplayedError(message, { context: { issuer: state.issuer } });
}
