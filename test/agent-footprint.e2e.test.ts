/**
 * What the agent loads. It runs for days on every provider's machine and starts a node
 * process per busy period (its lease watchdog): it takes the contract's types and a few
 * constants, not the TypeBox schemas behind those types, the job-YAML parser or the
 * workspace packer. Loading the whole of core cost an idle agent about 2.7 MB of resident
 * memory and its start about 130 ms of CPU (docs/performance-history.md, eighth session).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { packWorkspace } from "../packages/core/src/workspace.js";
import { agentBin, repoRoot } from "./support/paths.js";

const workspaceModule = `${repoRoot}packages/agent/dist/runner/workspace.js`;

const dir = mkdtempSync(join(tmpdir(), "fedml-footprint-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A module-loading hook that appends every module URL node loads to the file named in its
 * registration data (node's `register(url, { data })`, passed to `initialize`).
 */
const hooks = join(dir, "trace-hooks.mjs");
writeFileSync(
  hooks,
  `import { appendFileSync } from "node:fs";
let list;
export function initialize(data) { list = data.list; }
export async function load(url, context, next) {
  appendFileSync(list, url + "\\n");
  return next(url, context);
}
`,
);

/** Runs node with the hook registered first; answers the module URLs it loaded. */
function modulesLoaded(name: string, args: string[]): string[] {
  const list = join(dir, `${name}.txt`);
  writeFileSync(list, "");
  const register = `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { list: ${JSON.stringify(list)} } });`;
  const result = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(register)}`, ...args], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  assert.equal(result.error, undefined);
  return readFileSync(list, "utf8").split("\n").filter(Boolean);
}

const packageOf = (url: string) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? null;

describe("the agent's modules", () => {
  test("at start: the daemon and the contract, and none of TypeBox, yaml or tar", () => {
    // The usage answer still links every module the bin imports (ES modules load before they run).
    const loaded = modulesLoaded("start", [agentBin, "--version"]);
    assert.ok(
      loaded.some((url) => url.endsWith("/packages/agent/dist/daemon.js")),
      "the trace saw the agent's daemon module",
    );
    assert.ok(loaded.some((url) => url.endsWith("/packages/core/dist/contract.js")));
    const packages = new Set(loaded.map(packageOf).filter((name) => name !== null));
    for (const heavy of ["@sinclair/typebox", "yaml", "tar"]) assert.ok(!packages.has(heavy), `${heavy} was loaded`);
  });

  test("for a run with a workspace: tar, and none of TypeBox or yaml", async () => {
    const source = join(dir, "source");
    mkdirSync(source);
    writeFileSync(join(source, "train.py"), "print('hello')\n");
    const packed = await packWorkspace(source, { outFile: join(dir, "ws.tar.gz"), maxBytes: 1024 * 1024 });
    const home = join(dir, "agent-home");
    const runFolder = join(dir, "run-1");
    // The agent's own code path: download into its cache and unpack into the run's folder.
    const script = `import { createReadStream, readFileSync } from "node:fs";
import { prepareWorkspace } from ${JSON.stringify(pathToFileURL(workspaceModule).href)};
const cwd = await prepareWorkspace(${JSON.stringify(home)}, ${JSON.stringify(runFolder)}, ${JSON.stringify(packed.sha256)}, async () => createReadStream(${JSON.stringify(packed.file)}));
process.stdout.write(readFileSync(cwd + "/train.py", "utf8"));`;
    const loaded = modulesLoaded("workspace", ["--input-type=module", "-e", script]);
    assert.equal(readFileSync(join(runFolder, "workspace", "train.py"), "utf8"), "print('hello')\n");
    const packages = new Set(loaded.map(packageOf).filter((name) => name !== null));
    assert.ok(packages.has("tar"), `tar among ${[...packages].join(", ")}`);
    for (const heavy of ["@sinclair/typebox", "yaml"]) assert.ok(!packages.has(heavy), `${heavy} was loaded`);
  });
});
