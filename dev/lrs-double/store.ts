/**
 * In-memory statement storage of the LRS double. Besides what an LRS keeps, it records every
 * body ever received per id (accepted or not), so a test can prove that no id was ever sent
 * with two different bodies.
 */

export interface StoredStatement {
  id: string;
  /** The statement exactly as received (parsed). */
  statement: Record<string, unknown>;
  /** Canonical JSON (sorted keys) of the statement as received. */
  canonical: string;
  /** When the double stored it (xAPI `stored`). */
  stored: string;
  storedAtMs: number;
}

export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

export class StatementStore {
  readonly #byId = new Map<string, StoredStatement>();
  readonly #order: StoredStatement[] = [];
  readonly #received = new Map<string, Set<string>>();

  get count(): number {
    return this.#order.length;
  }

  get(id: string): StoredStatement | undefined {
    return this.#byId.get(id.toLowerCase());
  }

  /** Oldest first. */
  all(): readonly StoredStatement[] {
    return this.#order;
  }

  newestFirst(limit: number): StoredStatement[] {
    return this.#order.slice(-limit).reverse();
  }

  noteReceived(id: string, canonical: string): void {
    const key = id.toLowerCase();
    const set = this.#received.get(key) ?? new Set<string>();
    set.add(canonical);
    this.#received.set(key, set);
  }

  /** Distinct bodies ever received under this id (1 for a well-behaved client). */
  bodiesReceived(id: string): number {
    return this.#received.get(id.toLowerCase())?.size ?? 0;
  }

  /** Ids that were received with more than one distinct body. */
  idsWithSeveralBodies(): string[] {
    return [...this.#received.entries()].filter(([, bodies]) => bodies.size > 1).map(([id]) => id);
  }

  add(
    statement: Record<string, unknown>,
    id: string,
    canonical: string,
    now: number = Date.now(),
  ): StoredStatement {
    const stored: StoredStatement = {
      id,
      statement,
      canonical,
      stored: new Date(now).toISOString(),
      storedAtMs: now,
    };
    this.#byId.set(id.toLowerCase(), stored);
    this.#order.push(stored);
    return stored;
  }

  clear(): void {
    this.#byId.clear();
    this.#order.length = 0;
    this.#received.clear();
  }
}
