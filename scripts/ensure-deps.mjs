#!/usr/bin/env node
// Runs before `npm start` and `npm test`: installs dependencies when they are missing or stale
// (package-lock.json changed since the last install), and skips in a few milliseconds otherwise.
// Plain JavaScript on purpose: it must run before anything is installed.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const lock = join(root, "package-lock.json");
const stamp = join(root, "node_modules", ".hlta-deps-stamp");

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`This project needs Node.js 20.19 or newer; this is ${process.versions.node}.`);
  process.exit(1);
}

const wanted = createHash("sha256").update(readFileSync(lock)).digest("hex");
// Every package the project names must be there too: a stamp alone survives a deleted package.
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const named = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
const allPresent = () => named.every((name) => existsSync(join(root, "node_modules", name, "package.json")));
const stamped = existsSync(stamp) && readFileSync(stamp, "utf8").trim() === wanted;
if (stamped && allPresent()) process.exit(0);
// Installed by hand (npm ci or npm install) after the lock file last changed: take it as is.
const npmRecord = join(root, "node_modules", ".package-lock.json");
if (
  !stamped &&
  allPresent() &&
  existsSync(npmRecord) &&
  statSync(npmRecord).mtimeMs >= statSync(lock).mtimeMs
) {
  writeFileSync(stamp, wanted);
  process.exit(0);
}

console.log("Installing dependencies (npm ci); this happens once after a fresh clone or a lock file change…");
// --include=dev: the tools that run the project (tsx, vitest) are dev dependencies, and
// NODE_ENV=production in the shell would otherwise leave them out.
const result = spawnSync("npm", ["ci", "--include=dev", "--no-audit", "--no-fund"], {
  cwd: root,
  stdio: "inherit",
});
if (result.status !== 0) {
  console.error(
    "Installing dependencies failed (see above). Check your network access to the npm registry and try again.",
  );
  process.exit(result.status ?? 1);
}
if (!allPresent()) {
  console.error("Installing dependencies left some out; delete node_modules and run this again.");
  process.exit(1);
}
writeFileSync(stamp, wanted);
