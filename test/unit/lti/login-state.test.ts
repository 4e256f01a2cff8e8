import { describe, expect, it } from "vitest";
import { InvalidSessionError, LaunchTooLargeError } from "../../../lti-tool/errors.js";
import { SealedLoginStates } from "../../../lti-tool/login-state.js";
import type { LoginState } from "../../../lti-tool/ports.js";
import { type Session, SessionTokens } from "../../../lti-tool/session.js";
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

describe("one-time ids spent beside the logins (the deep-linking picker's answer)", () => {
  it("spend once, beside a login whose nonce is the same text, and are remembered a minute past their expiry", async () => {
    const expiries: number[] = [];
    const used = new MemoryUsedLoginStore();
    const claim = used.claim.bind(used);
    used.claim = (issuer, nonce, stateId, expiresAt) => {
      expiries.push(expiresAt);
      return claim(issuer, nonce, stateId, expiresAt);
    };
    const states = new SealedLoginStates(new SessionTokens(secret), used);
    // A login whose nonce is the id's text: neither spends the other.
    const login = await states.open(await states.seal({ ...state, nonce: "picker-1" }), now);
    if (!login) throw new Error("the login did not open");
    await states.markUsed(login);
    expect(await states.spendOnce(state.issuer, "picker-1", now + 1800)).toBe(true);
    expect(await states.spendOnce(state.issuer, "picker-1", now + 1800)).toBe(false);
    // Another LMS's id of the same text is its own.
    expect(await states.spendOnce("https://canvas.school.test", "picker-1", now + 1800)).toBe(true);
    expect(expiries.slice(1)).toEqual([now + 1860, now + 1860, now + 1860]);
  });
});

describe("session tokens", () => {
  const session: Session = {
    course: {
      issuer: "https://moodle.school.test",
      clientId: "abc",
      deploymentId: "1",
      contextId: "course-1",
    },
    userId: "user-1",
    role: "tutor",
    name: "Sam Tutor",
    resourceLinkId: "link-1",
  };
  const at = new Date("2026-11-24T09:00:00Z");
  const minutesLater = (minutes: number) => new Date(at.getTime() + minutes * 60_000);
  const refusal = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof InvalidSessionError)) throw new Error("expected the session to be refused");
    return error;
  };

  it("give back the course, LMS issuer included, the person and the role they were issued for", async () => {
    const tokens = new SessionTokens(secret);
    const opened = await tokens.verify(await tokens.issue(session, at), minutesLater(1));
    expect(opened).toEqual(session);
  });

  it("last an hour by default: open at 59 minutes, refused as timed out after 61", async () => {
    const tokens = new SessionTokens(secret);
    const token = await tokens.issue(session, at);
    expect((await tokens.verify(token, minutesLater(59))).userId).toBe("user-1");
    const late = await refusal(tokens.verify(token, minutesLater(61)));
    expect(late.userMessage).toContain("timed out");
  });

  it("tell a timed-out session apart from one that cannot be verified", async () => {
    const tokens = new SessionTokens(secret);
    const token = await tokens.issue(session, at);
    const expired = await refusal(tokens.verify(token, minutesLater(24 * 60)));
    expect(expired.userMessage).toContain("timed out");
    const forged = await refusal(
      new SessionTokens(new Uint8Array(32).fill(3)).verify(token, minutesLater(1)),
    );
    expect(forged.userMessage).not.toContain("timed out");
    expect(forged.userMessage).toContain("could not be verified");
  });

  it("are refused when too long to travel in a URL, though a sealed form value may be longer", async () => {
    const tokens = new SessionTokens(secret);
    const long = "a".repeat(9_000);
    await expect(tokens.issue({ ...session, activity: long }, at)).rejects.toBeInstanceOf(
      LaunchTooLargeError,
    );
    const sealed = await tokens.seal("hlta-form", { value: long }, 600, at);
    expect(await tokens.open("hlta-form", sealed, minutesLater(1))).toMatchObject({ value: long });
  });
});
