import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { PlatformJwksUnavailableError } from "../../../lti-tool/errors.js";
import { PlatformJwksCache } from "../../../lti-tool/platform-jwks.js";

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
});
