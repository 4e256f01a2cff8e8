#!/usr/bin/env node
// Runs before `npm start` and `npm test`: installs dependencies when they are missing or stale
// (package-lock.json changed since the last install), and skips in a few milliseconds otherwise.
// Plain JavaScript on purpose: it must run before anything is installed.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
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
if (existsSync(stamp) && readFileSync(stamp, "utf8").trim() === wanted) process.exit(0);

console.log("Installing dependencies (npm ci); this happens once after a fresh clone or a lock file change…");
const result = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
if (result.status !== 0) {
  console.error(
    "Installing dependencies failed (see above). Check your network access to the npm registry and try again.",
  );
  process.exit(result.status ?? 1);
}
writeFileSync(stamp, wanted);
