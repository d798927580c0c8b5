#!/usr/bin/env node
// Packs the CLI as ONE tarball that installs on a machine without the clone:
//   node scripts/pack-cli.mjs [DEST]            (default: the current folder)
//   npm install -g --allow-scripts=better-sqlite3 DEST/fedml-<version>.tgz
// The workspace packages it needs (@fedml/core, agent, server) are not on a registry, and npm
// pack does not bundle workspace links, so each is packed on its own and put inside the
// fedml package as a bundled dependency; their own dependencies (fastify, pg, ...) become the
// fedml package's and come from the registry at install time. Answers the tarball's path on stdout.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dest = resolve(process.argv[2] ?? ".");
const bundled = { "@fedml/core": "core", "@fedml/agent": "agent", "@fedml/server": "server" };
const stage = mkdtempSync(join(tmpdir(), "fedml-pack-"));

function pack(dir, into) {
  const out = execFileSync("npm", ["pack", "--silent", "--pack-destination", into, dir], {
    encoding: "utf8",
  });
  return join(into, out.trim().split("\n").pop());
}

function unpack(tarball, into) {
  mkdirSync(into, { recursive: true });
  execFileSync("tar", ["xzf", tarball, "-C", into, "--strip-components=1"]);
}

try {
  const pkgDir = join(stage, "fedml");
  unpack(pack(join(root, "packages", "fedml"), stage), pkgDir);
  for (const [name, folder] of Object.entries(bundled)) {
    unpack(pack(join(root, "packages", folder), stage), join(pkgDir, "node_modules", name));
  }
  const manifest = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  // The server is optional for the clone (a remote server needs none) but part of this install.
  manifest.dependencies = { ...manifest.dependencies, ...manifest.optionalDependencies };
  delete manifest.optionalDependencies;
  manifest.bundleDependencies = Object.keys(bundled);
  // npm does not install a bundled package's own dependencies: they become the fedml package's,
  // where node's resolution finds them from the bundled packages too. All are pinned exactly.
  // A bundled package must then list none itself: npm counts the dependencies of bundled
  // packages as bundled too, and would expect them inside the tarball instead of fetching them.
  for (const name of Object.keys(bundled)) {
    const innerPath = join(pkgDir, "node_modules", name, "package.json");
    const inner = JSON.parse(readFileSync(innerPath, "utf8"));
    for (const [dep, version] of Object.entries({ ...inner.dependencies, ...inner.optionalDependencies })) {
      if (dep in bundled) continue;
      const have = manifest.dependencies[dep];
      if (have !== undefined && have !== version) throw new Error(`${name} wants ${dep}@${version}, another package ${have}`);
      manifest.dependencies[dep] = version;
    }
    delete inner.dependencies;
    delete inner.optionalDependencies;
    writeFileSync(innerPath, `${JSON.stringify(inner, null, 2)}\n`);
  }
  // The clone's npm overrides (a Node 20 cookie under fastify) do not reach a global install;
  // the same pins as direct dependencies do, since npm dedupes onto them.
  const rootManifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  for (const [dep, version] of Object.entries(rootManifest.overrides ?? {})) manifest.dependencies[dep] = version;
  // Bundled packages' bins are not linked: the fedml package carries the server's.
  manifest.bin = { ...manifest.bin, "fedml-server": "bin/fedml-server.js", "fedml-agent": "bin/fedml-agent.js" };
  writeFileSync(join(pkgDir, "bin", "fedml-server.js"), '#!/usr/bin/env node\nimport "@fedml/server/bin";\n', { mode: 0o755 });
  writeFileSync(join(pkgDir, "bin", "fedml-agent.js"), '#!/usr/bin/env node\nimport "@fedml/agent/bin";\n', { mode: 0o755 });
  manifest.files = [...new Set([...(manifest.files ?? []), "node_modules"])];
  writeFileSync(join(pkgDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  mkdirSync(dest, { recursive: true });
  const tarball = pack(pkgDir, dest);
  process.stdout.write(`${tarball}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
