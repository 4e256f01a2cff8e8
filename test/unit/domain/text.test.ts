import { describe, expect, it } from "vitest";
import { wellFormedClip } from "../../../domain/text.js";

const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe("text an LMS sent, fit for a statement", () => {
  it("cuts at the limit in UTF-16 units, never through a surrogate pair", () => {
    const name = `${"a".repeat(499)}😀 and more`;
    expect(wellFormedClip(name, 500)).toBe("a".repeat(499));
    expect(wellFormedClip(`${"a".repeat(498)}😀 and more`, 500)).toBe(`${"a".repeat(498)}😀`);
    expect(wellFormedClip("short 😀", 500)).toBe("short 😀");
  });

  it("replaces lone surrogates with U+FFFD, and leaves pairs alone", () => {
    const clipped = wellFormedClip("Siân \ud83d 😀 \ude00 end", 500);
    expect(clipped).toBe("Siân \uFFFD 😀 \uFFFD end");
    expect(LONE.test(clipped)).toBe(false);
  });
});
