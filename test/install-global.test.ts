// `npm install -g` of the packed CLI, on a machine without the clone: the one tarball that
// scripts/pack-cli.mjs makes, installed into a temporary prefix, puts fedml, fedml-server and
// fedml-agent on the PATH, and the installed fedml runs a job on the embedded default that
// the installed server and agent provide.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { repoRoot } from "./support/paths.js";
import { makeTempDir } from "./support/tmp.js";

const tmp = makeTempDir("install-global");
const prefix = join(tmp.dir, "prefix");
const env = {
  ...process.env,
  PATH: `${join(prefix, "bin")}:${process.env.PATH}`,
  FEDML_HOME: join(tmp.dir, "home"),
  FEDML_SERVER_URL: "",
  FEDML_API_KEY: "",
};

after(() => {
  spawnSync("fedml", ["server", "stop"], { env, encoding: "utf8" });
  tmp.cleanup();
});

const run = (command: string, args: string[]) => spawnSync(command, args, { env, encoding: "utf8", timeout: 120_000 });

test("the packed tarball installs globally and its fedml runs a job on its own server and agent", () => {
  const tarball = execFileSync(process.execPath, [join(repoRoot, "scripts/pack-cli.mjs"), tmp.dir], { encoding: "utf8" }).trim();
  assert.ok(existsSync(tarball), tarball);
  // Dependencies come from npm's cache when it has them. Install scripts are skipped to keep
  // this test in seconds: the only one that matters, better-sqlite3's, compiles for minutes
  // where no prebuilt binary can be fetched; the clone's build of the same pinned version stands in.
  const install = spawnSync(
    "npm",
    ["install", "-g", "--prefix", prefix, "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund", tarball],
    { encoding: "utf8", timeout: 300_000 },
  );
  assert.equal(install.status, 0, install.stderr);
  assert.doesNotMatch(install.stderr, /EBADENGINE/, "every dependency admits Node 20");
  const installed = join(prefix, "lib", "node_modules", "fedml");
  const native = "node_modules/better-sqlite3/build/Release/better_sqlite3.node";
  mkdirSync(join(installed, native, ".."), { recursive: true });
  copyFileSync(join(repoRoot, native), join(installed, native));

  for (const bin of ["fedml", "fedml-server", "fedml-agent"])
    assert.ok(existsSync(join(prefix, "bin", bin)), `${bin} on the PATH`);
  assert.match(run("fedml", ["version"]).stdout, /^fedml 0\.\d+\.\d+\n$/);
  const help = run("fedml-server", ["--help"]);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /Usage: fedml-server/);

  const jobDir = join(tmp.dir, "job");
  mkdirSync(jobDir, { recursive: true });
  writeFileSync(join(jobDir, "job.yaml"), "job: |\n  echo hello from the installed CLI\n");
  const launched = run("fedml", ["launch", join(jobDir, "job.yaml")]);
  assert.equal(launched.status, 0, `${launched.stdout}\n${launched.stderr}`);
  assert.match(launched.stdout, /hello from the installed CLI/);
  assert.match(launched.stdout, /FINISHED/);
  // The server that ran it is the installed one, not the clone's.
  const { pid } = JSON.parse(readFileSync(join(env.FEDML_HOME, "server", "server.json"), "utf8")) as { pid: number };
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  assert.ok(
    cmdline.some((arg) => arg.startsWith(installed)),
    cmdline.join(" "),
  );
});
