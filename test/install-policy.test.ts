// What `npm install` of a fresh clone depends on: exactly the install scripts we approve
// (better-sqlite3 builds the embedded default's database driver; esbuild is tsx's), no
// package that refuses the Node versions we support, and a native module that loads.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import semver from "semver";
import { repoRoot } from "./support/paths.js";

const rootPackage = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
  engines: { node: string };
  allowScripts: Record<string, boolean>;
};

test("allowScripts approves exactly better-sqlite3 and esbuild, and covers every install script", () => {
  assert.deepEqual(rootPackage.allowScripts, { "better-sqlite3": true, esbuild: true });
  const pending = execFileSync("npm", ["install-scripts", "ls"], { cwd: repoRoot, encoding: "utf8" });
  assert.match(pending, /No packages with unreviewed install scripts/);
});

test("every installed package admits the oldest Node we support", () => {
  const oldest = semver.minVersion(rootPackage.engines.node)?.version;
  assert.ok(oldest, rootPackage.engines.node);
  const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version?: string; engines?: { node?: string } | string[]; dev?: boolean }>;
  };
  const refusing = Object.entries(lock.packages)
    .filter(([path, p]) => path !== "" && !Array.isArray(p.engines) && p.engines?.node)
    .filter(([, p]) => !semver.satisfies(oldest, (p.engines as { node: string }).node))
    .map(([path, p]) => `${path}@${p.version} wants node ${(p.engines as { node: string }).node}`);
  assert.deepEqual(refusing, [], `these would warn EBADENGINE on Node ${oldest}`);
});

test("the native database driver was built by the install and opens a database", () => {
  const require = createRequire(join(repoRoot, "packages/server/package.json"));
  const Database = require("better-sqlite3") as new (
    file: string,
  ) => {
    prepare(sql: string): { get(): unknown };
    close(): void;
  };
  const db = new Database(":memory:");
  assert.deepEqual(db.prepare("select 41 + 1 as answer").get(), { answer: 42 });
  db.close();
});
