import * as z from "zod";

/**
 * Fault injection for the LRS double, deterministic for a given seed and request order:
 * fail a fraction of requests (429/5xx), hang a fraction past the client's timeout, answer 409,
 * or be down (close connections) for a stretch.
 */

export const FaultSettingsSchema = z.object({
  /** Fraction of requests answered with one of `failStatuses`. */
  failRate: z.number().min(0).max(1),
  failStatuses: z.array(z.number().int().min(400).max(599)).min(1),
  /** Seconds sent as Retry-After with a 429 (none when undefined). */
  retryAfterSeconds: z.number().int().min(0).optional(),
  /** Fraction of requests that hang for `hangMs` (the client times out first). */
  timeoutRate: z.number().min(0).max(1),
  hangMs: z.number().int().min(0).max(600_000),
  /** A hanging request stores its statements first, so the client's retry is a resend. */
  storeBeforeTimeout: z.boolean(),
  /** Fraction of requests answered 409 without storing anything. */
  conflictRate: z.number().min(0).max(1),
  /** Answer 409 (storing nothing) when any statement of the request is already stored, even identically (some LRSs do). */
  conflictOnIdenticalResend: z.boolean(),
  /** While now < downUntil (epoch ms), xAPI requests get their connection closed, no answer. */
  downUntil: z.number().nullable(),
  /** Added to every xAPI answer. */
  latencyMs: z.number().int().min(0).max(60_000),
});
export type FaultSettings = z.infer<typeof FaultSettingsSchema>;

export const NO_FAULTS: FaultSettings = {
  failRate: 0,
  failStatuses: [429, 500, 502, 503],
  timeoutRate: 0,
  hangMs: 30_000,
  storeBeforeTimeout: true,
  conflictRate: 0,
  conflictOnIdenticalResend: false,
  downUntil: null,
  latencyMs: 0,
};

/** mulberry32: a tiny seeded PRNG, enough for reproducible fault patterns. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type FaultDecision =
  | { kind: "down" }
  | { kind: "fail"; status: number }
  | { kind: "timeout" }
  | { kind: "conflict" }
  | { kind: "ok" };

export interface FaultCounters {
  requests: number;
  down: number;
  failed: number;
  timedOut: number;
  conflicts: number;
}

export class FaultController {
  #settings: FaultSettings = { ...NO_FAULTS };
  #random: () => number;
  readonly counters: FaultCounters = { requests: 0, down: 0, failed: 0, timedOut: 0, conflicts: 0 };

  constructor(
    seed = 1,
    private readonly now: () => number = Date.now,
  ) {
    this.#random = mulberry32(seed);
  }

  get settings(): FaultSettings {
    return { ...this.#settings };
  }

  /** Change some settings; the rest stay. Throws a zod error on invalid values. */
  set(partial: Partial<FaultSettings>): FaultSettings {
    this.#settings = FaultSettingsSchema.parse({ ...this.#settings, ...partial });
    return this.settings;
  }

  reset(seed?: number): void {
    this.#settings = { ...NO_FAULTS };
    if (seed !== undefined) this.#random = mulberry32(seed);
  }

  /** Be down (close every xAPI connection) for `ms` from now. */
  downFor(ms: number): void {
    this.set({ downUntil: this.now() + ms });
  }

  up(): void {
    this.set({ downUntil: null });
  }

  isDown(): boolean {
    return this.#settings.downUntil !== null && this.now() < this.#settings.downUntil;
  }

  /** What to do with the next xAPI request. One random draw per request keeps runs reproducible. */
  decide(): FaultDecision {
    this.counters.requests += 1;
    if (this.isDown()) {
      this.counters.down += 1;
      return { kind: "down" };
    }
    const s = this.#settings;
    const r = this.#random();
    if (r < s.failRate) {
      this.counters.failed += 1;
      const pick = this.#random();
      return { kind: "fail", status: s.failStatuses[Math.floor(pick * s.failStatuses.length)] ?? 503 };
    }
    if (r < s.failRate + s.timeoutRate) {
      this.counters.timedOut += 1;
      return { kind: "timeout" };
    }
    if (r < s.failRate + s.timeoutRate + s.conflictRate) {
      this.counters.conflicts += 1;
      return { kind: "conflict" };
    }
    return { kind: "ok" };
  }
}
