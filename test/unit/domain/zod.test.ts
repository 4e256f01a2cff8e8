import { describe, expect, it } from "vitest";
import * as z from "../../../domain/zod.js";

describe("lazySchema", () => {
  it("builds the schema on the first call, not before, and only once", () => {
    let builds = 0;
    const Schema = z.lazySchema(() => {
      builds += 1;
      return z.object({ n: z.number() });
    });
    expect(builds).toBe(0);
    const first = Schema();
    expect(builds).toBe(1);
    expect(Schema()).toBe(first);
    expect(builds).toBe(1);
    expect(first.parse({ n: 1 })).toEqual({ n: 1 });
  });
});
