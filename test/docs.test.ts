// The docs stay true: the API reference is what the generator makes from the code today, and
// every relative link in the README and docs/ resolves to a file (and heading) in the repository.
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { referencePath, renderApiReference } from "../scripts/api-reference/generate.js";
import { repoRoot } from "./support/paths.js";

test("docs/api-reference.md is what npm run docs:api generates from the code", () => {
  const onDisk = readFileSync(referencePath, "utf8");
  assert.ok(onDisk === renderApiReference(), "docs/api-reference.md is out of date: run npm run docs:api and commit it");
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const slug = heading[1]
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    let unique = slug;
    for (let n = 1; anchors.has(unique); n++) unique = `${slug}-${n}`;
    anchors.add(unique);
  }
  return anchors;
}

/** Link targets outside code: [text](target) and <a href="target">. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  const links = [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]);
  return [...links, ...[...prose.matchAll(/href="([^"]+)"/g)].map((m) => m[1])];
}

function markdownFiles(): string[] {
  const docs = readdirSync(join(repoRoot, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => join(repoRoot, "docs", f));
  return [join(repoRoot, "README.md"), ...docs];
}

test("every relative link in README.md and docs/ resolves inside the repository", () => {
  const broken: string[] = [];
  for (const file of markdownFiles()) {
    const text = readFileSync(file, "utf8");
    for (const link of linksOf(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto: ...
      const [path, anchor] = link.split("#");
      const target = path === "" ? file : resolve(dirname(file), decodeURIComponent(path));
      const where = `${relative(repoRoot, file)}: ${link}`;
      if (relative(repoRoot, target).startsWith("..")) broken.push(`${where} (outside the repository)`);
      else if (!existsSync(target)) broken.push(`${where} (no such file)`);
      else if (
        anchor &&
        target.endsWith(".md") &&
        statSync(target).isFile() &&
        !anchorsOf(readFileSync(target, "utf8")).has(anchor)
      ) {
        broken.push(`${where} (no heading #${anchor})`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

test("the link check sees links: the README links the API reference", () => {
  assert.ok(linksOf(readFileSync(join(repoRoot, "README.md"), "utf8")).includes("docs/api-reference.md"));
  assert.deepEqual(linksOf('[a](x.md) `[b](y.md)` <a href="z.md">'), ["x.md", "z.md"]);
});
