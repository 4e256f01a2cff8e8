import { describe, expect, it } from "vitest";
import { DEFAULT_FRAMEWORK, type Framework, parseFramework } from "../../../domain/standards/framework.js";
import bundledFile from "../../../domain/standards/frameworks/hlta-england.v1.0.0.json" with { type: "json" };

describe("the bundled default framework", () => {
  // DEFAULT_FRAMEWORK is not parsed at import (the web Lambda's cold start): this is its check.
  it("passes the framework schema as it is, nothing added, dropped or changed", () => {
    expect(parseFramework(DEFAULT_FRAMEWORK)).toStrictEqual(DEFAULT_FRAMEWORK);
  });

  it("is its versioned file as parsing the file gives it", () => {
    expect(DEFAULT_FRAMEWORK).toStrictEqual(parseFramework(bundledFile));
  });
});

describe("parseFramework", () => {
  const valid = (): Framework => structuredClone(DEFAULT_FRAMEWORK);

  it("refuses a standard in a group the framework does not have", () => {
    const fw = valid();
    const first = fw.standards[0];
    if (!first) throw new Error("the default framework has no standards");
    first.group = "no-such-group";
    expect(() => parseFramework(fw)).toThrow(/unknown group no-such-group/);
  });

  it("refuses two standards with one number", () => {
    const fw = valid();
    const [first, second] = fw.standards;
    if (!first || !second) throw new Error("the default framework has fewer than two standards");
    second.number = first.number;
    expect(() => parseFramework(fw)).toThrow(/duplicate standard/);
  });

  it("refuses a jurisdiction it does not know", () => {
    expect(() => parseFramework({ ...valid(), jurisdiction: "scotland" })).toThrow();
  });
});
