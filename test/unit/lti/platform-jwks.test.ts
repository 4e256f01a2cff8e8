import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { PlatformJwksUnavailableError } from "../../../lti-tool/errors.js";
import { checkPlatformKeys, PlatformJwksCache } from "../../../lti-tool/platform-jwks.js";
import type { PlatformKeyStore } from "../../../lti-tool/ports.js";
import { MemoryPlatformKeyStore } from "../../support/memory-stores.js";

const URL_ = "https://lms.test/jwks";
const rsa = async (kid: string) => {
  const { publicKey } = await generateKeyPair("RS256", { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
};
const ec = async (kid: string) => {
  const { publicKey } = await generateKeyPair("ES256", { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, use: "sig" };
};

/** A JWKS endpoint that answers from `answers` in turn (the last one again), counting calls. */
function endpoint(answers: (() => Response)[]) {
  let calls = 0;
  const fetchImpl: typeof fetch = async () => {
    const answer = answers[Math.min(calls, answers.length - 1)];
    calls++;
    if (!answer) throw new TypeError("fetch failed");
    return answer();
  };
  return { fetchImpl, calls: () => calls };
}
const down = () => new Response("unavailable", { status: 503 });

describe("platform keys", () => {
  it("takes the RSA key when another kind of key shares its kid", async () => {
    const [other, key] = [await ec("k1"), await rsa("k1")];
    const { fetchImpl } = endpoint([() => Response.json({ keys: [other, key] })]);
    const found = await new PlatformJwksCache({ fetch: fetchImpl }).keyFor(URL_, "k1");
    expect(found?.kty).toBe("RSA");
    expect(found?.n).toBe(key.n);
  });

  it("uses no key published for another algorithm or for encryption, and one that names none", async () => {
    const [forPs, forEnc, bare] = [await rsa("ps"), await rsa("enc"), await rsa("bare")];
    const { alg: _, ...unnamed } = bare;
    const { fetchImpl } = endpoint([
      () => Response.json({ keys: [{ ...forPs, alg: "PS256" }, { ...forEnc, use: "enc" }, unnamed] }),
    ]);
    const cache = new PlatformJwksCache({ fetch: fetchImpl });
    expect(await cache.keyFor(URL_, "ps")).toBeUndefined();
    expect(await cache.keyFor(URL_, "enc")).toBeUndefined();
    expect((await cache.keyFor(URL_, "bare"))?.n).toBe(bare.n);
  });

  it("passes over a junk entry among the keys", async () => {
    const key = await rsa("k1");
    const { fetchImpl } = endpoint([() => Response.json({ keys: ["junk", null, 7, key] })]);
    expect((await new PlatformJwksCache({ fetch: fetchImpl }).keyFor(URL_, "k1"))?.n).toBe(key.n);
  });

  it("keeps verifying with keys fetched earlier while the endpoint is down", async () => {
    let now = 0;
    const key = await rsa("k1");
    const { fetchImpl } = endpoint([() => Response.json({ keys: [key] }), down]);
    const cache = new PlatformJwksCache({ fetch: fetchImpl, now: () => now, ttlMs: 60_000 });
    expect((await cache.keyFor(URL_, "k1"))?.n).toBe(key.n);
    now = 2 * 60 * 60_000; // two hours on: the refresh fails, the keys of two hours ago still serve
    expect((await cache.keyFor(URL_, "k1"))?.n).toBe(key.n);
    now = 25 * 60 * 60_000; // past a day, the launch says plainly that the keys cannot be had
    await expect(cache.keyFor(URL_, "k1")).rejects.toBeInstanceOf(PlatformJwksUnavailableError);
  });

  it("serving stale keys, asks the failing endpoint again only after a pause, not on every launch", async () => {
    let now = 0;
    const key = await rsa("k1");
    const { fetchImpl, calls } = endpoint([() => Response.json({ keys: [key] }), down]);
    const told: { jwksUrl: string; fetchedAt: number; cause: unknown }[] = [];
    const cache = new PlatformJwksCache({
      fetch: fetchImpl,
      now: () => now,
      ttlMs: 60_000,
      onStaleKeys: (event) => told.push(event),
    });
    await cache.keyFor(URL_, "k1");
    expect(told).toEqual([]);
    now = 2 * 60_000;
    for (let i = 0; i < 5; i++) expect((await cache.keyFor(URL_, "k1"))?.n).toBe(key.n);
    expect(calls()).toBe(2);
    now += 61_000;
    await cache.keyFor(URL_, "k1");
    expect(calls()).toBe(3);
    // The operator hears of each failed refresh (once per pause), with the keys' age and the cause.
    expect(told).toHaveLength(2);
    expect(told[0]).toMatchObject({ jwksUrl: URL_, fetchedAt: 0 });
    expect(told[0]?.cause).toBeInstanceOf(PlatformJwksUnavailableError);
  });

  it("never serves keys past the day's grace, even in the pause after a failed refresh", async () => {
    let now = 0;
    const key = await rsa("k1");
    const { fetchImpl } = endpoint([() => Response.json({ keys: [key] }), down]);
    const cache = new PlatformJwksCache({ fetch: fetchImpl, now: () => now, ttlMs: 60_000 });
    await cache.keyFor(URL_, "k1");
    now = 24 * 60 * 60_000 - 30_000; // the refresh fails: stale keys serve, the pause begins
    expect((await cache.keyFor(URL_, "k1"))?.n).toBe(key.n);
    now += 31_000; // within the pause, but the keys are a day old
    await expect(cache.keyFor(URL_, "k1")).rejects.toBeInstanceOf(PlatformJwksUnavailableError);
  });

  it("asks a failing endpoint once for an unknown kid, not once per launch", async () => {
    const now = 0;
    const key = await rsa("k1");
    const { fetchImpl, calls } = endpoint([() => Response.json({ keys: [key] }), down]);
    const cache = new PlatformJwksCache({ fetch: fetchImpl, now: () => now, unknownKidCooldownMs: 10_000 });
    await cache.keyFor(URL_, "k1");
    await expect(cache.keyFor(URL_, "rotated")).rejects.toBeInstanceOf(PlatformJwksUnavailableError);
    for (let i = 0; i < 5; i++) expect(await cache.keyFor(URL_, "rotated")).toBeUndefined();
    expect(calls()).toBe(2);
  });

  it("finds a rotated key for every launch that arrives while its one re-fetch is on its way", async () => {
    const old = await rsa("k1");
    const rotated = await rsa("k2");
    let published = [old];
    let calls = 0;
    const fetchImpl: typeof fetch = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return Response.json({ keys: published });
    };
    const cache = new PlatformJwksCache({ fetch: fetchImpl });
    expect(await cache.keyFor(URL_, "k1")).toBeDefined();
    published = [old, rotated];
    const found = await Promise.all([1, 2, 3].map(() => cache.keyFor(URL_, "k2")));
    // Before, the launches after the first found the cooldown started and gave up at once.
    expect(found.map((k) => k?.kid)).toEqual(["k2", "k2", "k2"]);
    expect(calls).toBe(2);
  });
});

describe("platform keys shared between the tool's instances", () => {
  it("an instance that has just started takes keys another fetched, without asking the LMS", async () => {
    let now = 1_000_000;
    const key = await rsa("k1");
    const shared = new MemoryPlatformKeyStore();
    const lms = endpoint([() => Response.json({ keys: [key] })]);
    const first = new PlatformJwksCache({ fetch: lms.fetchImpl, now: () => now, shared });
    expect((await first.keyFor(URL_, "k1"))?.n).toBe(key.n);
    expect(lms.calls()).toBe(1);
    expect(shared.entries.get(URL_)?.fetchedAt).toBe(now);

    now += 5 * 60_000; // five minutes on, a second instance starts
    const second = new PlatformJwksCache({ fetch: lms.fetchImpl, now: () => now, shared });
    expect((await second.keyFor(URL_, "k1"))?.n).toBe(key.n);
    expect(await second.verificationKey(URL_, "k1")).toBeDefined();
    expect(lms.calls()).toBe(1);
    expect(shared.gets).toBe(2); // once by each instance, then from memory
  });

  it("fetches when the shared keys are older than the cache trusts, and shares the new ones", async () => {
    let now = 0;
    const [old, rotated] = [await rsa("old"), await rsa("new")];
    const shared = new MemoryPlatformKeyStore();
    await shared.put(URL_, { jwks: { keys: [old] }, fetchedAt: now });
    now = 11 * 60_000; // past the ten minutes a fetch is trusted
    const lms = endpoint([() => Response.json({ keys: [rotated] })]);
    const cache = new PlatformJwksCache({ fetch: lms.fetchImpl, now: () => now, shared });
    expect((await cache.keyFor(URL_, "new"))?.n).toBe(rotated.n);
    expect(lms.calls()).toBe(1);
    expect(shared.entries.get(URL_)).toEqual({ jwks: { keys: [rotated] }, fetchedAt: now });
  });

  it("an unknown kid among fresh shared keys is fetched once from the LMS (the key was rotated)", async () => {
    const now = 0;
    const [old, rotated] = [await rsa("old"), await rsa("new")];
    const shared = new MemoryPlatformKeyStore();
    await shared.put(URL_, { jwks: { keys: [old] }, fetchedAt: now });
    const lms = endpoint([() => Response.json({ keys: [old, rotated] })]);
    const cache = new PlatformJwksCache({ fetch: lms.fetchImpl, now: () => now + 1, shared });
    expect((await cache.keyFor(URL_, "new"))?.n).toBe(rotated.n);
    expect(lms.calls()).toBe(1);
    expect(shared.entries.get(URL_)?.jwks.keys).toHaveLength(2);
  });

  it("shared keys past the LMS's time still check launches while its endpoint is down, within the day", async () => {
    let now = 0;
    const key = await rsa("k1");
    const shared = new MemoryPlatformKeyStore();
    await shared.put(URL_, { jwks: { keys: [key] }, fetchedAt: now });
    const stale: unknown[] = [];
    const lms = endpoint([down]);
    now = 3 * 60 * 60_000;
    const cache = new PlatformJwksCache({
      fetch: lms.fetchImpl,
      now: () => now,
      shared,
      onStaleKeys: (event) => stale.push(event),
    });
    expect((await cache.keyFor(URL_, "k1"))?.n).toBe(key.n);
    expect(stale).toHaveLength(1);
    // A day on, a new instance no longer takes them.
    now = 25 * 60 * 60_000;
    const later = new PlatformJwksCache({ fetch: lms.fetchImpl, now: () => now, shared });
    await expect(later.keyFor(URL_, "k1")).rejects.toBeInstanceOf(PlatformJwksUnavailableError);
  });

  it("a failing shared store costs the launch nothing: the keys come from the LMS and the failure is told", async () => {
    const key = await rsa("k1");
    const broken: PlatformKeyStore = {
      get: async () => {
        throw new Error("table unavailable");
      },
      put: async () => {
        throw new Error("table unavailable");
      },
    };
    const told: { operation: string }[] = [];
    const lms = endpoint([() => Response.json({ keys: [key] })]);
    const cache = new PlatformJwksCache({
      fetch: lms.fetchImpl,
      shared: broken,
      onSharedStoreError: (event) => told.push(event),
    });
    expect((await cache.keyFor(URL_, "k1"))?.n).toBe(key.n);
    expect(told.map((t) => t.operation)).toEqual(["get", "put"]);
  });

  it("launches arriving together at a new instance read the shared keys once", async () => {
    const key = await rsa("k1");
    const shared = new MemoryPlatformKeyStore();
    await shared.put(URL_, { jwks: { keys: [key] }, fetchedAt: Date.now() });
    const lms = endpoint([() => Response.json({ keys: [key] })]);
    const cache = new PlatformJwksCache({ fetch: lms.fetchImpl, shared });
    const found = await Promise.all([1, 2, 3, 4].map(() => cache.keyFor(URL_, "k1")));
    expect(found.every((k) => k?.n === key.n)).toBe(true);
    expect(shared.gets).toBe(1);
    expect(lms.calls()).toBe(0);
  });

  it("takes another instance's keys as fetched no later than now, when that instance's clock ran a little ahead", async () => {
    const key = await rsa("k1");
    let now = 0;
    const shared = new MemoryPlatformKeyStore(() => now);
    await shared.put(URL_, { jwks: { keys: [key] }, fetchedAt: 30_000 });
    const lms = endpoint([() => Response.json({ keys: [key] })]);
    const cache = new PlatformJwksCache({ fetch: lms.fetchImpl, now: () => now, shared });
    await cache.keyFor(URL_, "k1");
    expect(lms.calls()).toBe(0);
    now = 10 * 60_000 + 1; // trusted for ten minutes from now, not from the half minute ahead
    await cache.keyFor(URL_, "k1");
    expect(lms.calls()).toBe(1);
  });

  it("does not believe keys dated far ahead of its clock: it asks the LMS, and its answer replaces them", async () => {
    const [withdrawn, current] = [await rsa("withdrawn"), await rsa("current")];
    let now = 0;
    const shared = new MemoryPlatformKeyStore(() => now);
    // Written by an instance whose clock ran an hour ahead, before the LMS withdrew the key.
    await shared.put(URL_, { jwks: { keys: [withdrawn] }, fetchedAt: 60 * 60_000 });
    const lms = endpoint([() => Response.json({ keys: [current] })]);
    now = 5 * 60_000;
    const cache = new PlatformJwksCache({ fetch: lms.fetchImpl, now: () => now, shared });
    expect(await cache.keyFor(URL_, "withdrawn")).toBeUndefined();
    // Once in place of the table's keys, once more for the kid it did not find.
    expect(lms.calls()).toBe(2);
    expect(shared.entries.get(URL_)).toEqual({ jwks: { keys: [current] }, fetchedAt: now });
    // The next new instance takes the LMS's answer from the table.
    const next = new PlatformJwksCache({ fetch: lms.fetchImpl, now: () => now, shared });
    expect((await next.keyFor(URL_, "current"))?.n).toBe(current.n);
    expect(lms.calls()).toBe(2);
  });
});

describe("the keys checked at registration", () => {
  it("fetches them even when cached, shares them, and counts the RSA signing keys", async () => {
    const [a, b, other] = [await rsa("a"), await rsa("b"), await ec("c")];
    const shared = new MemoryPlatformKeyStore();
    const lms = endpoint([() => Response.json({ keys: [a] }), () => Response.json({ keys: [a, b, other] })]);
    const cache = new PlatformJwksCache({ fetch: lms.fetchImpl, shared });
    await cache.keyFor(URL_, "a");
    expect(await checkPlatformKeys(cache, URL_)).toEqual({ signingKeys: 2 });
    expect(lms.calls()).toBe(2);
    expect(shared.entries.get(URL_)?.jwks.keys).toHaveLength(3);
  });

  it("counts only the keys a launch can be checked with: a kid, and a key that imports", async () => {
    const good = await rsa("good");
    const { kid: _kid, ...noKid } = await rsa("x");
    const broken = { kty: "RSA", kid: "broken", e: "AQAB", use: "sig" };
    const lms = endpoint([() => Response.json({ keys: [noKid, broken, { ...good, kid: "" }] })]);
    const none = await checkPlatformKeys(new PlatformJwksCache({ fetch: lms.fetchImpl }), URL_);
    expect(none.problem).toContain("no RSA signing key with a key id");
    const mixed = endpoint([() => Response.json({ keys: [noKid, broken, good] })]);
    expect(await checkPlatformKeys(new PlatformJwksCache({ fetch: mixed.fetchImpl }), URL_)).toEqual({
      signingKeys: 1,
    });
  });

  it("says so, without throwing, when the LMS publishes no signing key or cannot be reached", async () => {
    const ecKey = await ec("c");
    const none = endpoint([() => Response.json({ keys: [ecKey] })]);
    const noKey = await checkPlatformKeys(new PlatformJwksCache({ fetch: none.fetchImpl }), URL_);
    expect(noKey.problem).toContain("no RSA signing key");
    const missing = endpoint([() => new Response("not found", { status: 404 })]);
    const unreachable = await checkPlatformKeys(new PlatformJwksCache({ fetch: missing.fetchImpl }), URL_);
    expect(unreachable).toMatchObject({ cause: expect.any(PlatformJwksUnavailableError) });
    expect(unreachable.problem).toContain(URL_);
  });

  it("waits no longer than it is told, so a registration answers within its function's time", async () => {
    // An LMS whose key endpoint never answers (until the fetch's own 5 s limit).
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
    const started = Date.now();
    const answer = await checkPlatformKeys(new PlatformJwksCache({ fetch: hanging }), URL_, { waitMs: 50 });
    expect(Date.now() - started).toBeLessThan(2_000);
    // Slow is not said to be unreachable.
    expect(answer.problem).toContain("did not arrive in time");
    expect(answer.problem).toContain(URL_);
  });
});
