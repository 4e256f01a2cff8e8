import { decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import {
  CLOCK_SKEW_MS,
  JWKS_MAX_AGE_SECONDS,
  KEY_LIST_CACHE_MS,
  RETIRED_KEY_PUBLISHED_MS,
  ROTATION_LEAD_MS,
  StoredKeySigner,
} from "../../../lti-tool/tool-keys.js";
import { MemoryToolKeyStore } from "../../support/memory-stores.js";

/** A clock the test moves; every signer of a test reads it. */
function clock(start = Date.parse("2026-11-24T10:00:00Z")) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
}

const kidOf = async (signer: StoredKeySigner) => decodeProtectedHeader(await signer.sign({ x: 1 })).kid;
const published = async (signer: StoredKeySigner) => (await signer.jwks()).keys.map((k) => k.kid);

describe("the tool's first key", () => {
  it("is one key however many instances and requests start on an empty store at once", async () => {
    const c = clock();
    const store = new MemoryToolKeyStore();
    const a = new StoredKeySigner(store, KEY_LIST_CACHE_MS, c.now);
    const b = new StoredKeySigner(store, KEY_LIST_CACHE_MS, c.now);
    // One instance answers a platform's keyset request while another signs, three times over.
    const [keyset, ...signed] = await Promise.all([
      published(a),
      kidOf(b),
      kidOf(b),
      kidOf(a),
      b.ensureKey().then((k) => k.kid),
    ]);
    expect(store.keys).toHaveLength(1);
    expect(new Set(signed)).toEqual(new Set([store.keys[0]?.kid]));
    // The keyset that platform caches for max-age names the key every instance signs with.
    expect(keyset).toEqual([store.keys[0]?.kid]);
    c.advance(KEY_LIST_CACHE_MS + 1);
    expect(await kidOf(a)).toBe(store.keys[0]?.kid);
  });
});

describe("rotating the tool's signing key", () => {
  it("publishes the new key at once and signs with it only once every cached keyset has it", async () => {
    const c = clock();
    const signer = new StoredKeySigner(new MemoryToolKeyStore(), KEY_LIST_CACHE_MS, c.now);
    const first = await signer.ensureKey();
    const { current, signsFrom } = await signer.rotate();
    expect(Date.parse(signsFrom) - c.now().getTime()).toBe(ROTATION_LEAD_MS);
    expect(ROTATION_LEAD_MS).toBeGreaterThan(JWKS_MAX_AGE_SECONDS * 1000 + KEY_LIST_CACHE_MS);
    // A platform fetches the keyset right after the rotation and keeps it for max-age.
    const cached = await published(signer);
    expect(cached).toEqual(expect.arrayContaining([first.kid, current.kid]));
    for (let s = 0; s <= JWKS_MAX_AGE_SECONDS; s += 30) {
      expect(cached, `${s} s after the rotation`).toContain(await kidOf(signer));
      c.advance(30_000);
    }
    expect(await kidOf(signer)).toBe(first.kid);
    c.advance(ROTATION_LEAD_MS);
    expect(await kidOf(signer)).toBe(current.kid);
    // The old key stays published for what it signed just before.
    expect(await published(signer)).toContain(first.kid);
  });

  it("never signs with a key the keyset does not publish, however quickly rotations follow and however stale an instance's key list", async () => {
    const c = clock();
    const store = new MemoryToolKeyStore();
    const a = new StoredKeySigner(store, KEY_LIST_CACHE_MS, c.now);
    const b = new StoredKeySigner(store, KEY_LIST_CACHE_MS, c.now);
    await a.ensureKey();
    await b.sign({ warm: true }); // b now holds the key list for a minute
    await a.rotate();
    await a.rotate();
    for (let step = 0; step < 40; step++) {
      const now = await published(new StoredKeySigner(store, 0, c.now));
      expect(now, `step ${step}`).toContain(await kidOf(a));
      expect(now, `step ${step}`).toContain(await kidOf(b));
      if (step === 20) await a.rotate();
      c.advance(30_000);
    }
  });

  it("stops publishing a key an hour after it stopped signing, at the next rotation", async () => {
    const c = clock();
    const signer = new StoredKeySigner(new MemoryToolKeyStore(), 0, c.now);
    const first = await signer.ensureKey();
    const second = (await signer.rotate()).current;
    c.advance(ROTATION_LEAD_MS + RETIRED_KEY_PUBLISHED_MS - 1);
    expect((await signer.rotate()).removed).toEqual([]);
    c.advance(1);
    const third = await signer.rotate();
    expect(third.removed).toEqual([first.kid]);
    expect(await published(signer)).toEqual(expect.arrayContaining([second.kid, third.current.kid]));
    expect(await published(signer)).not.toContain(first.kid);
  });

  it("makes the first key sign at once when there is none yet (nothing to wait for)", async () => {
    const c = clock();
    const signer = new StoredKeySigner(new MemoryToolKeyStore(), KEY_LIST_CACHE_MS, c.now);
    const { current, signsFrom } = await signer.rotate();
    expect(signsFrom).toBe(new Date(c.now().getTime() - CLOCK_SKEW_MS).toISOString());
    expect(await kidOf(signer)).toBe(current.kid);
    expect(await published(signer)).toEqual([current.kid]);
  });

  it("replaces a leaked key at once when asked: the new key signs now and the others leave the keyset", async () => {
    const c = clock();
    const signer = new StoredKeySigner(new MemoryToolKeyStore(), KEY_LIST_CACHE_MS, c.now);
    const leaked = await signer.ensureKey();
    const { current, removed } = await signer.rotate({ immediately: true });
    expect(removed).toEqual([leaked.kid]);
    expect(await published(signer)).toEqual([current.kid]);
    expect(await kidOf(signer)).toBe(current.kid);
  });

  it("makes the first key, made at an instance's start, sign on an instance whose clock is behind", async () => {
    const store = new MemoryToolKeyStore();
    const behind = clock();
    const ahead = clock(behind.now().getTime() + 1_000);
    const first = await new StoredKeySigner(store, KEY_LIST_CACHE_MS, ahead.now).ensureKey();
    const seen = await new StoredKeySigner(store, KEY_LIST_CACHE_MS, behind.now).ensureKey();
    expect(seen.kid).toBe(first.kid);
    expect((await store.listKeys()).map((k) => k.kid)).toEqual([first.kid]);
  });

  it("makes a key replaced at once sign on an instance whose clock is behind the rotating machine's", async () => {
    const store = new MemoryToolKeyStore();
    const lambda = clock();
    const laptop = clock(lambda.now().getTime() + 2 * 60_000);
    const running = new StoredKeySigner(store, KEY_LIST_CACHE_MS, lambda.now);
    await running.ensureKey();
    const { current } = await new StoredKeySigner(store, KEY_LIST_CACHE_MS, laptop.now).rotate({
      immediately: true,
    });
    lambda.advance(KEY_LIST_CACHE_MS);
    // Before, the new key's time had not come by this clock, every other key was gone, and the
    // instance made one more key of its own.
    expect(await kidOf(running)).toBe(current.kid);
    expect((await store.listKeys()).map((k) => k.kid)).toEqual([current.kid]);
  });
});
