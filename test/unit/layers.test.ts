import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** The modules a file imports (static, dynamic and type imports, and re-exports). */
function imported(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["']([^"']+)["']/g)].map((m) => m[1] ?? "");
}

describe("layers", () => {
  it("keeps the AWS SDK out of the domain, the LTI core and the xAPI statements", () => {
    const offenders = ["domain", "lti-tool", "statements"].flatMap(sources).flatMap((file) =>
      imported(file)
        .filter((m) => m.startsWith("@aws-sdk/") || m.startsWith("@smithy/"))
        .map((m) => `${relative(ROOT, file)} imports ${m}`),
    );
    expect(offenders).toEqual([]);
  });

  it("finds the imports it looks for (the check above can fail)", () => {
    const adapters = sources("adapters").flatMap(imported);
    expect(adapters.some((m) => m.startsWith("@aws-sdk/"))).toBe(true);
  });
});
