/**
 * Batching and back-off, kept pure so the bounds can be tested exactly.
 */

export interface BatchLimits {
  /** Statements per request (issue 4: at most 50). */
  maxCount: number;
  /** Bytes of the JSON array per request (issue 4: at most 1 MB). */
  maxBytes: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxCount: 50, maxBytes: 1_000_000 };

/** UTF-8 length of a string, without allocating a buffer. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/**
 * Split bodies, in order, into batches that respect both limits. The array syntax counts:
 * `[` + bodies joined by `,` + `]`. A body larger than `maxBytes` on its own travels alone (the
 * LRS then answers 413 and the forwarder parks it with that answer).
 */
export function planBatches<T>(
  items: readonly T[],
  bodyOf: (item: T) => string,
  limits: BatchLimits = DEFAULT_BATCH_LIMITS,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 2;
  for (const item of items) {
    const size = utf8Length(bodyOf(item));
    const added = current.length === 0 ? size : size + 1;
    if (current.length > 0 && (current.length >= limits.maxCount || bytes + added > limits.maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 2;
    }
    bytes += current.length === 0 ? size : size + 1;
    current.push(item);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export interface BackoffPolicy {
  /** Delay ceiling of the first retry. */
  baseMs: number;
  /** No delay ever exceeds this. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 300_000 };

/**
 * "Full jitter" (AWS Architecture Blog, Exponential Backoff and Jitter): a uniform delay in
 * [0, min(cap, base·2^attempt)). Spreads retries of many statements so a recovering LRS is not
 * hit by all of them at once. A Retry-After from the LRS raises the delay, still within the cap.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
  retryAfterMs?: number,
): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  const jittered = Math.floor(random() * ceiling);
  const wanted = retryAfterMs === undefined ? jittered : Math.max(jittered, retryAfterMs);
  return Math.min(Math.max(wanted, 0), policy.capMs);
}
