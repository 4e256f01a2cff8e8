/**
 * What this instance last wrote to the table under a key, and when: so a store can leave out of
 * a launch an item it wrote moments ago, unchanged. Bounded: when full, it starts again (a Lambda
 * instance serves a few courses). Only what this instance wrote: another may have written since,
 * which is why each store trusts an entry for a short while only.
 */
export class WriteMemo {
  private readonly written = new Map<string, { value: string; at: number }>();

  constructor(private readonly max = 10_000) {}

  /** When (ms) this instance last wrote `value` under `key`; undefined if it wrote another or none. */
  lastWrite(key: string, value: string): number | undefined {
    const last = this.written.get(key);
    return last !== undefined && last.value === value ? last.at : undefined;
  }

  /** Call once the write succeeded, so a failed one is written again next time. */
  remember(key: string, value: string, at: number): void {
    if (this.written.size >= this.max) this.written.clear();
    this.written.set(key, { value, at });
  }
}
