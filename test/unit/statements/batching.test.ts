import { describe, expect, it } from "vitest";
import { backoffDelay, planBatches } from "../../../statements/batching.js";

const bodyOf = (s: string) => s;

describe("planBatches", () => {
  it("cuts at 50 statements", () => {
    const bodies = Array.from({ length: 120 }, (_, i) => `{"n":${i}}`);
    const batches = planBatches(bodies, bodyOf);
    expect(batches.map((b) => b.length)).toEqual([50, 50, 20]);
    expect(batches.flat()).toEqual(bodies);
  });

  it("keeps each request's JSON array within the byte limit, counting brackets and commas", () => {
    const body = "x".repeat(99);
    // [ + 3 bodies + 2 commas + ] = 2 + 297 + 2 = 301 bytes.
    expect(
      planBatches([body, body, body, body], bodyOf, { maxCount: 50, maxBytes: 301 }).map((b) => b.length),
    ).toEqual([3, 1]);
    expect(
      planBatches([body, body, body], bodyOf, { maxCount: 50, maxBytes: 300 }).map((b) => b.length),
    ).toEqual([2, 1]);
  });

  it("counts UTF-8 bytes, not characters", () => {
    const welsh = "ŵ".repeat(50); // 100 bytes
    expect(planBatches([welsh, welsh], bodyOf, { maxCount: 50, maxBytes: 150 }).map((b) => b.length)).toEqual(
      [1, 1],
    );
  });

  it("sends a statement larger than the limit alone rather than never", () => {
    const huge = "y".repeat(2_000);
    expect(
      planBatches(["a", huge, "b"], bodyOf, { maxCount: 50, maxBytes: 1_000 }).map((b) => b.length),
    ).toEqual([1, 1, 1]);
  });

  it("plans nothing for nothing", () => {
    expect(planBatches([], bodyOf)).toEqual([]);
  });
});

describe("backoffDelay (full jitter)", () => {
  const policy = { baseMs: 100, capMs: 10_000 };

  it("lies in [0, base·2^attempt) before the cap", () => {
    expect(backoffDelay(0, policy, () => 0)).toBe(0);
    expect(backoffDelay(0, policy, () => 0.999999)).toBe(99);
    expect(backoffDelay(3, policy, () => 0.999999)).toBe(799);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(400);
  });

  it("never exceeds the cap, however many attempts", () => {
    for (const attempt of [7, 8, 20, 1_000]) {
      expect(backoffDelay(attempt, policy, () => 0.999999)).toBeLessThanOrEqual(10_000);
    }
  });

  it("waits at least the LRS's Retry-After, within the cap", () => {
    expect(backoffDelay(0, policy, () => 0, 3_000)).toBe(3_000);
    expect(backoffDelay(0, policy, () => 0, 60_000)).toBe(10_000);
  });

  it("spreads retries over the whole window", () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const delays = Array.from({ length: 1_000 }, () => backoffDelay(4, policy, random));
    expect(Math.min(...delays)).toBeLessThan(100);
    expect(Math.max(...delays)).toBeGreaterThan(1_500);
    expect(Math.max(...delays)).toBeLessThan(1_600);
  });
});
