#!/usr/bin/env node
// Node 20's test runner neither expands globs nor finds .ts files by itself, so this script
// lists every *.test.ts under packages/*/test and test/ and hands them over by name.
// Usage: node scripts/run-tests.mjs [substring ...]  (only files whose path contains one)
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const roots = [join(root, "test"), ...readdirSync(join(root, "packages")).map((p) => join(root, "packages", p, "test"))];

function walk(dir, out) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (name.endsWith(".test.ts")) out.push(relative(root, full));
  }
  return out;
}

const filters = process.argv.slice(2);
const files = roots.flatMap((d) => walk(d, [])).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`no test files matched ${filters.join(" ") || "(all)"}`);
  process.exit(1);
}
console.log(`running ${files.length} test files:\n  ${files.join("\n  ")}`);
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", `--test-concurrency=${process.env.TEST_CONCURRENCY ?? "2"}`, ...files],
  { stdio: "inherit", cwd: root },
);
process.exit(result.status ?? 1);
