import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const SCRIPT = join(import.meta.dirname, "../../../scripts/ensure-deps.mjs");
const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/**
 * A project folder with the script, a manifest naming `a` and `b`, a lock file, and an `npm`
 * on PATH that only writes down how it was called (and installs `b` when told to).
 */
function project(installed: string[]) {
  const root = mkdtempSync(join(tmpdir(), "hlta-deps-"));
  roots.push(root);
  mkdirSync(join(root, "scripts"));
  copyFileSync(SCRIPT, join(root, "scripts", "ensure-deps.mjs"));
  writeFileSync(
    join(root, "package.json"),
    JSON.stringify({ dependencies: { a: "1" }, devDependencies: { b: "1" } }),
  );
  writeFileSync(join(root, "package-lock.json"), '{"lockfileVersion":3}');
  for (const name of installed) {
    mkdirSync(join(root, "node_modules", name), { recursive: true });
    writeFileSync(join(root, "node_modules", name, "package.json"), "{}");
  }
  const bin = join(root, "bin");
  mkdirSync(bin);
  writeFileSync(
    join(bin, "npm"),
    `#!/bin/sh\necho "$@" >> "${join(root, "npm-calls")}"\nmkdir -p node_modules/a node_modules/b && echo '{}' > node_modules/a/package.json && echo '{}' > node_modules/b/package.json\n`,
  );
  chmodSync(join(bin, "npm"), 0o755);
  const run = (env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [join(root, "scripts", "ensure-deps.mjs")], {
      cwd: root,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env },
      encoding: "utf8",
    });
  const calls = () => {
    try {
      return readFileSync(join(root, "npm-calls"), "utf8").trim().split("\n");
    } catch {
      return [];
    }
  };
  return { root, run, calls };
}

describe("npm start and npm test install what is missing first", () => {
  it("installs with the dev dependencies even under NODE_ENV=production, then skips", () => {
    const p = project([]);
    expect(p.run({ NODE_ENV: "production" }).status).toBe(0);
    expect(p.calls()).toEqual([expect.stringMatching(/^ci --include=dev /)]);
    expect(p.run().status).toBe(0);
    expect(p.calls()).toHaveLength(1);
  });

  it("installs again when a package went missing, even with its stamp in place", () => {
    const p = project([]);
    p.run();
    rmSync(join(p.root, "node_modules", "b"), { recursive: true });
    expect(p.run().status).toBe(0);
    expect(p.calls()).toHaveLength(2);
  });

  it("takes an install made by hand after the lock file changed, without installing again", () => {
    const p = project(["a", "b"]);
    writeFileSync(join(p.root, "node_modules", ".package-lock.json"), "{}");
    expect(p.run().status).toBe(0);
    expect(p.calls()).toEqual([]);
  });
});
