import { describe, expect, it } from "vitest";
import { SealedLoginStates } from "../../../lti-tool/login-state.js";
import type { LoginState } from "../../../lti-tool/ports.js";
import { SessionTokens } from "../../../lti-tool/session.js";
import { MemoryUsedLoginStore } from "../../support/memory-stores.js";

const secret = new Uint8Array(32).fill(2);
const now = Math.floor(Date.now() / 1000);
const state: LoginState = {
  nonce: "n-1",
  issuer: "https://moodle.school.test",
  clientId: "abc",
  targetLinkUri: "https://tool.test/app",
  bindingHash: "h",
  binding: "cookie",
  issuedAt: now,
  expiresAt: now + 600,
};

describe("sealed login states", () => {
  it("open what they sealed, and nothing sealed for another purpose with the same secret", async () => {
    const tokens = new SessionTokens(secret);
    const states = new SealedLoginStates(tokens, new MemoryUsedLoginStore());
    expect(await states.open(await states.seal(state), now)).toMatchObject({
      nonce: "n-1",
      binding: "cookie",
    });
    const session = await tokens.issue({
      course: { issuer: state.issuer, clientId: "abc", deploymentId: "1", contextId: "c" },
      userId: "u",
      role: "candidate",
    });
    expect(await states.open(session, now)).toBeUndefined();
    const check = await tokens.seal("hlta-login-check", { state: "x", loginParams: {} }, 600);
    expect(await states.open(check, now)).toBeUndefined();
  });

  it("let a failure to load the secret through, instead of calling the state unknown", async () => {
    const unavailable = new SessionTokens(async () => {
      throw new Error("the key store is unreachable");
    });
    const states = new SealedLoginStates(unavailable, new MemoryUsedLoginStore());
    const sealed = await new SealedLoginStates(new SessionTokens(secret), new MemoryUsedLoginStore()).seal(
      state,
    );
    await expect(states.open(sealed, now)).rejects.toThrow("the key store is unreachable");
  });

  it("keep the single-use record a little past the state's own expiry", async () => {
    const used = new MemoryUsedLoginStore();
    const expiries: number[] = [];
    const states = new SealedLoginStates(new SessionTokens(secret), {
      claim: (issuer, nonce, stateId, expiresAt) => {
        expiries.push(expiresAt);
        return used.claim(issuer, nonce, stateId, expiresAt);
      },
    });
    const opened = await states.open(await states.seal(state), now);
    if (!opened) throw new Error("did not open");
    await states.markUsed(opened);
    expect(expiries[0]).toBeGreaterThan(state.expiresAt);
  });
});
