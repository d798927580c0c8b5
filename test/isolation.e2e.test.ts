// Jobs kept apart from the agent, from each other and from the host: a real server, real
// agent processes bound the way a GPU box is (root, a user per job, a cgroup per run), real
// jobs that try to get out. The tests needing root skip with a message elsewhere.
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  symlinkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  readdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { api } from "fedml";
import { agentKey } from "../packages/agent/src/runner/isolation/index.js";
import { writeJob } from "./support/jobs.js";
import { agentBin, cliBin } from "./support/paths.js";
import { type AgentProcess, type ServerProcess, createUser, freePort, startAgent, startServer } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";
import { waitForRunEnd } from "./support/runs.js";

const execFileAsync = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const rootOnly = isRoot ? {} : { skip: "needs root: jobs get users of their own and cgroups only when the agent is root" };

const tmp = makeTempDir("isolation");
// Run folders where the agent keeps them by default (/var/lib): outside /tmp, so jobs get a
// private /tmp (a jobs dir inside /tmp would be hidden by it).
const jobsDir = isRoot ? mkdtempSync("/var/lib/fedml-isolation-test-") : join(tmp.dir, "jobs");
let server: ServerProcess;
let agent: AgentProcess | undefined;
let alice: { serverUrl: string; apiKey: string };

type Opts = { serverUrl: string; apiKey: string };

async function logLines(runId: string, opts: Opts): Promise<string[]> {
  return (await api.runLogs(runId, 1, 100, { needAllLogs: true, ...opts })).logLineList;
}

async function launch(name: string, yaml: string, files: Record<string, string> = {}) {
  const launched = await api.launchJob(writeJob(tmp.dir, name, yaml, files), alice);
  // QUEUED (5) while the runs of an earlier test still hold the device's slots: it starts by itself.
  assert.ok(launched.resultCode === 0 || launched.resultCode === 5, launched.resultMsg);
  assert.ok(launched.runId);
  return launched.runId;
}

// Each escaper prints its own pid once it has left (setsid) or been orphaned, so the test never
// reads a pid before the escape happened.
const escaperJob = [
  "job: |",
  "  trap '' TERM",
  '  setsid bash -c \'trap "" TERM; echo "setsid $$"; while :; do sleep 1; done\' &',
  '  ( bash -c \'trap "" TERM; echo "orphan $$"; while :; do sleep 1; done\' & )',
  "  while :; do sleep 1; done",
  "",
].join("\n");
const escaperLine = /^(setsid|orphan) \d+$/;

/** The two escapers' pids, once both have said they escaped. */
async function escaperPids(runId: string): Promise<number[]> {
  const lines = await waitFor(
    "the escapers' pids",
    async () => {
      const said = (await logLines(runId, alice)).filter((l) => escaperLine.test(l));
      return said.length === 2 ? said : undefined;
    },
    20_000,
    100,
  );
  return lines.map((l) => Number(l.split(" ")[1]));
}

function isLive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** The v1 freezer (or v2) cgroup path of a process, from /proc. */
function cgroupOf(pid: number): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n");
  return (lines.find((l) => /:freezer:/.test(l)) ?? lines.find((l) => l.startsWith("0::")) ?? "").split(":")[2] ?? "";
}

function duBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else total += statSync(full).size;
    }
  };
  walk(dir);
  return total;
}

/** An agent bound the way a shared GPU box is: root, a user per job, run folders under jobsDir. */
function startIsolatedAgent(name: string, containerRuntime: string, extra: string[] = []): Promise<AgentProcess> {
  const args = ["--name", name, "--job-user", "pool", "--jobs-dir", jobsDir, "--container-runtime", containerRuntime];
  return startAgent(server.url, alice.apiKey, join(tmp.dir, `${name}-home`), [...args, ...extra]);
}

before(async () => {
  process.env.FEDML_HOME = join(tmp.dir, "client-home");
  // Job users must be able to walk down to their run folder; the agent's home stays 0700.
  chmodSync(tmp.dir, 0o711);
  server = await startServer(join(tmp.dir, "server-home"), { extraArgs: ["--stop-grace-ms", "1000"] });
  alice = { serverUrl: server.url, apiKey: await createUser(server, "alice") };
  if (!isRoot) return;
  // The agent's environment holds secrets a job must never see.
  const saved = { key: process.env.FEDML_API_KEY, probe: process.env.FEDML_TEST_AGENT_SECRET };
  process.env.FEDML_API_KEY = alice.apiKey;
  process.env.FEDML_TEST_AGENT_SECRET = server.adminKey;
  try {
    agent = await startIsolatedAgent("iso-box", "none", ["--keep-failed-runs-minutes", "0", "--cache-max-mb", "1"]);
  } finally {
    process.env.FEDML_API_KEY = saved.key;
    process.env.FEDML_TEST_AGENT_SECRET = saved.probe;
    if (saved.key === undefined) delete process.env.FEDML_API_KEY;
    if (saved.probe === undefined) delete process.env.FEDML_TEST_AGENT_SECRET;
  }
});

after(async () => {
  await agent?.stop();
  await server?.stop();
  // The job users this file's agents made: fedml-<key of their home>-N.
  const prefixes = ["iso-box", "pod-box"].map((name) => `fedml-${agentKey(join(tmp.dir, `${name}-home`))}-`);
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const user = line.split(":")[0];
    if (prefixes.some((p) => user.startsWith(p))) execFileSync("userdel", [user]);
  }
  rmSync(jobsDir, { recursive: true, force: true });
  tmp.cleanup();
});

describe("jobs isolated from the agent, each other and the host", () => {
  test(
    "a job cannot read the agent's token, another run's files or the server's admin key; its env has no secret",
    rootOnly,
    async () => {
      const holder = await launch(
        "holder",
        'job: |\n  echo "private to the holder" > "$HOME/private.txt"\n  echo written\n  sleep 60\n',
      );
      await waitFor("the holder's file", async () => (await logLines(holder, alice)).includes("written"), 20_000, 100);
      const privateFile = join(jobsDir, holder, "job", "home", "private.txt");
      assert.ok(existsSync(privateFile), "the holder wrote its file in its own run folder");
      const agentJson = join(tmp.dir, "iso-box-home", "agent.json");
      const adminKeyFile = join(server.home, "server", "admin-key");
      const spy = await launch(
        "spy",
        [
          "job: |",
          '  echo "user=$(id -un)"',
          '  for f in "$FEDML_ENV_AGENT_JSON" "$FEDML_ENV_OTHER_RUN" "$FEDML_ENV_ADMIN_KEY"; do',
          '    if cat "$f" >/dev/null 2>&1; then echo "READ $f"; else echo "denied $f"; fi',
          "  done",
          '  if ls "$FEDML_ENV_JOBS_DIR" >/dev/null 2>&1; then echo "LISTED jobs"; else echo "denied listing"; fi',
          "  env",
          `agent_json: ${agentJson}`,
          `other_run: ${privateFile}`,
          `admin_key: ${adminKeyFile}`,
          `jobs_dir: ${jobsDir}`,
          "",
        ].join("\n"),
      );
      const run = await waitForRunEnd(spy, alice);
      assert.equal(run.status, "FINISHED");
      const lines = await logLines(spy, alice);
      assert.match(lines.find((l) => l.startsWith("user=")) ?? "", /^user=fedml-[0-9a-f]{8}-\d+$/);
      assert.deepEqual(
        lines.filter((l) => l.startsWith("denied") || l.startsWith("READ") || l.startsWith("LISTED")),
        [`denied ${agentJson}`, `denied ${privateFile}`, `denied ${adminKeyFile}`, "denied listing"],
      );
      const env = lines.filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l));
      assert.ok(!env.some((l) => l.startsWith("FEDML_API_KEY=")), "the agent's FEDML_API_KEY reached the job");
      assert.ok(!env.some((l) => l.includes(server.adminKey) || l.includes(alice.apiKey)), "a secret reached the job's env");
      assert.ok(!env.some((l) => l.startsWith("FEDML_TEST_AGENT_SECRET=")));
      assert.ok(env.includes(`FEDML_CURRENT_RUN_ID=${spy}`));
      await api.runStop(holder, alice);
      assert.equal((await waitForRunEnd(holder, alice)).status, "KILLED");
    },
  );

  test("a job that setsids, double-forks and traps SIGTERM is gone after stop, by PID and by cgroup", rootOnly, async () => {
    const runId = await launch("escaper", escaperJob);
    // A failed assertion must not leave the escapers holding the device for the tests after.
    try {
      const pids = await escaperPids(runId);
      assert.equal(pids.length, 2);
      const cgroups = pids.map(cgroupOf);
      for (const path of cgroups) assert.match(path, new RegExp(`/run-${runId}$`), "the escaper is still in the run's cgroup");
      // The job was started from inside its cgroup: the agent's own thread is back out of it.
      const agentPid = agent?.child.pid as number;
      assert.doesNotMatch(readFileSync(`/proc/${agentPid}/task/${agentPid}/cgroup`, "utf8"), /\/run-/);
      // Left the job's process group: a group kill alone would miss it.
      const pgid = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[2]);
      assert.notEqual(pgid(pids[0]), pgid(pids[1]));
      await api.runStop(runId, alice);
      assert.equal((await waitForRunEnd(runId, alice)).status, "KILLED");
      for (const pid of pids) assert.ok(!isLive(pid), `process ${pid} outlived the stop`);
      const freezerRoot = readFileSync("/proc/self/mounts", "utf8").includes(" /sys/fs/cgroup/freezer ")
        ? "/sys/fs/cgroup/freezer"
        : "/sys/fs/cgroup";
      assert.ok(!existsSync(join(freezerRoot, cgroups[0])), "the run's cgroup is still there");
    } finally {
      await api.runStop(runId, alice).catch(() => undefined);
    }
  });

  test("a job's /tmp, /var/tmp and TMPDIR are its own and go with the run: nothing it wrote is left", rootOnly, async () => {
    const marker = `fedml-iso-tmp-${process.pid}-${Date.now()}`;
    const holder = await launch("tmp-holder", `job: |\n  echo held > /tmp/${marker}-holder\n  echo holding\n  sleep 60\n`);
    await waitFor("the holder's /tmp file", async () => (await logLines(holder, alice)).includes("holding"), 20_000, 100);
    const writer = await launch(
      "tmp-writer",
      [
        "job: |",
        `  echo a > /tmp/${marker}`,
        `  echo b > /var/tmp/${marker}`,
        `  echo c > "$TMPDIR/${marker}-tmpdir"`,
        `  mkdir -p /tmp/${marker}-dir/deep && echo d > /tmp/${marker}-dir/deep/file`,
        `  if [ -e /tmp/${marker}-holder ]; then echo "SEES the other run's /tmp"; else echo "own /tmp"; fi`,
        "  ls /tmp | wc -l",
        "",
      ].join("\n"),
    );
    const run = await waitForRunEnd(writer, alice);
    const lines = await logLines(writer, alice);
    assert.equal(run.status, "FINISHED", lines.join("\n"));
    assert.ok(lines.includes("own /tmp"), lines.join("\n"));
    // The job saw only its own: its marker, its -tmpdir file (TMPDIR is that folder too) and its dir.
    assert.ok(lines.includes("3"), lines.join("\n"));
    const left = [...readdirSync("/tmp"), ...readdirSync("/var/tmp")].filter((name) => name.startsWith(marker));
    assert.deepEqual(left, [], "the job's files outlived it in the machine's /tmp");
    await waitFor("the run folder removed", () => !existsSync(join(jobsDir, writer)), 20_000, 100);
    await api.runStop(holder, alice);
    assert.equal((await waitForRunEnd(holder, alice)).status, "KILLED");
    assert.ok(!existsSync(`/tmp/${marker}-holder`));
  });

  test("a memory limit from computing.memory is enforced: the run ends FAILED for memory", rootOnly, async () => {
    const runId = await launch(
      "hog",
      "computing:\n  memory: 64MB\njob: |\n  python3 -c 'b = bytearray(400 * 1024 * 1024); print(len(b))'\n  echo survived\n",
    );
    const run = await waitForRunEnd(runId, alice);
    assert.equal(run.status, "FAILED");
    assert.match(run.reason ?? "", /memory limit of 61 MiB \(computing\.memory\)/);
    assert.ok(!(await logLines(runId, alice)).includes("400"));
  });

  test("the disk is back to its size once runs end: run folders removed, the workspace cache bounded", rootOnly, async () => {
    const agentHome = join(tmp.dir, "iso-box-home");
    const before = duBytes(jobsDir);
    // 3 MB of incompressible bytes per workspace: the cache's bound (1 MB) is exceeded at once.
    const files = (seed: string) => ({ "data.bin": randomBytes(3 * 1024 * 1024).toString("base64") + seed });
    const ids: string[] = [];
    for (const name of ["disk-a", "disk-b"])
      ids.push(await launch(name, "workspace: ws\njob: |\n  du -sk .\n  exit 0\n", files(name)));
    ids.push(await launch("disk-fail", "workspace: ws\njob: exit 4\n", files("fail")));
    for (const id of ids) await waitForRunEnd(id, alice);
    await waitFor(
      "run folders removed and the cache bounded",
      async () =>
        duBytes(jobsDir) === before &&
        duBytes(join(agentHome, "cache")) <= 1024 * 1024 &&
        !readdirSync(jobsDir).some((name) => ids.includes(name)),
      20_000,
      100,
    ).catch((error: Error) => {
      throw new Error(
        `${error.message}: jobs ${duBytes(jobsDir)} bytes (${readdirSync(jobsDir)}), cache ${duBytes(join(agentHome, "cache"))}`,
      );
    });
    assert.deepEqual(
      readdirSync(jobsDir).filter((name) => ids.includes(name)),
      [],
    );
    // What stays in the agent's home is each run's state (a line of its journal, for a while).
    assert.ok(duBytes(join(agentHome, "runs")) < 64 * 1024);
    assert.ok(statSync(join(agentHome, "run-states.jsonl")).size < 64 * 1024);
  });

  test("a container job never runs on a device without a runtime: the matcher says why", rootOnly, async () => {
    const devices = await api.deviceList(alice);
    const mine = devices.deviceList.find((d) => d.name === "iso-box");
    assert.ok(mine);
    const launched = await api.launchJob(
      writeJob(tmp.dir, "in-image", "docker:\n  image: localhost/fedml-test:1\njob: echo in image\n"),
      {
        ...alice,
        resourceId: String(mine.deviceId),
      },
    );
    assert.notEqual(launched.resultCode, 0);
    assert.match(launched.resultMsg, /runs in a container .* none of the 1 device you may use has docker or podman/);
  });
});

/** Where cgroup v2 is mounted: /sys/fs/cgroup on a v2-only machine, /sys/fs/cgroup/unified on a hybrid one. */
const cgroup2Mount = readFileSync("/proc/self/mounts", "utf8")
  .split("\n")
  .map((line) => line.split(" "))
  .find((fields) => fields[2] === "cgroup2")?.[1];

describe("cgroup v2 (--cgroup-root)", () => {
  const skip = !isRoot ? rootOnly : cgroup2Mount ? {} : { skip: "no cgroup v2 mount on this machine" };
  const root = join(cgroup2Mount ?? "/nonexistent", `fedml-iso-test-${process.pid}`);
  const runsParent = join(root, `fedml-${agentKey(join(tmp.dir, "v2-box-home"))}`);
  let v2Box: AgentProcess | undefined;
  let deviceId = "";
  before(async () => {
    if (!isRoot || !cgroup2Mount) return;
    // Run cgroups on the v2 mount even where it has no controllers (a hybrid machine): v2's
    // core (cgroup.procs, cgroup.kill, cgroup.events) is what a stop needs.
    v2Box = await startIsolatedAgent("v2-box", "none", ["--cgroup-root", root]);
    const mine = (await api.deviceList(alice)).deviceList.find((d) => d.name === "v2-box");
    assert.ok(mine);
    deviceId = String(mine.deviceId);
  });
  after(async () => {
    await v2Box?.stop();
    if (existsSync(root)) rmdirSync(root);
  });
  const launchOnV2 = async (name: string, yaml: string) => {
    const launched = await api.launchJob(writeJob(tmp.dir, name, yaml), { ...alice, resourceId: deviceId });
    assert.ok(launched.resultCode === 0 || launched.resultCode === 5, launched.resultMsg);
    return launched.runId as string;
  };
  /** The process's cgroup in the v2 hierarchy (the "0::" line). */
  const v2CgroupOf = (pid: number) =>
    (
      readFileSync(`/proc/${pid}/cgroup`, "utf8")
        .split("\n")
        .find((l) => l.startsWith("0::")) ?? ""
    ).slice(3);

  test(
    "a job that setsids, double-forks and traps SIGTERM is gone after stop; the v2 cgroup is empty, then removed",
    skip,
    async () => {
      const runId = await launchOnV2("v2-escaper", escaperJob);
      const pids = await escaperPids(runId);
      assert.equal(pids.length, 2);
      const runCgroup = join(runsParent, `run-${runId}`);
      for (const pid of pids) assert.equal(join(cgroup2Mount ?? "", v2CgroupOf(pid)), runCgroup);
      assert.match(readFileSync(join(runCgroup, "cgroup.events"), "utf8"), /^populated 1$/m);
      const inside = readFileSync(join(runCgroup, "cgroup.procs"), "utf8").trim().split("\n").map(Number);
      for (const pid of pids) assert.ok(inside.includes(pid));
      await api.runStop(runId, alice);
      assert.equal((await waitForRunEnd(runId, alice)).status, "KILLED");
      for (const pid of [...pids, ...inside]) assert.ok(!isLive(pid), `process ${pid} outlived the stop`);
      assert.ok(!existsSync(runCgroup), "the run's v2 cgroup is still there");
    },
  );

  test("limits where the v2 controller is missing are said not to be enforced; where it is, they are", skip, async () => {
    const memory = readFileSync(join(runsParent, "cgroup.subtree_control"), "utf8").split(/\s+/).includes("memory");
    const runId = await launchOnV2(
      "v2-hog",
      "computing:\n  memory: 64MB\njob: |\n  python3 -c 'b = bytearray(200 * 1024 * 1024); print(len(b))'\n",
    );
    const run = await waitForRunEnd(runId, alice);
    const lines = await logLines(runId, alice);
    if (memory) {
      assert.equal(run.status, "FAILED", lines.join("\n"));
      assert.match(run.reason ?? "", /memory limit of 61 MiB \(computing\.memory\)/);
    } else {
      assert.equal(run.status, "FINISHED", lines.join("\n"));
      assert.ok(
        lines.some((l) => /cannot enforce computing\.memory/.test(l)),
        lines.join("\n"),
      );
    }
  });
});

/** A tiny image built here from the host's own bash and coreutils (no registry is reachable). */
function buildLocalImage(tag: string): void {
  const root = join(tmp.dir, "rootfs");
  const bins = ["bash", "cat", "id", "sleep", "ls"].map((b) =>
    execFileSync("bash", ["-c", `command -v ${b}`])
      .toString()
      .trim(),
  );
  const libs = new Set<string>();
  for (const bin of bins) {
    for (const match of execFileSync("ldd", [bin])
      .toString()
      .matchAll(/(\/\S+) \(0x/g))
      libs.add(match[1]);
  }
  for (const file of [
    ...bins.map((b) => ({ from: b, to: join("usr/bin", b.split("/").pop() ?? b) })),
    ...[...libs].map((l) => ({ from: l, to: l.slice(1) })),
  ]) {
    mkdirSync(join(root, file.to, ".."), { recursive: true });
    copyFileSync(file.from, join(root, file.to));
    chmodSync(join(root, file.to), 0o755);
  }
  symlinkSync("usr/bin", join(root, "bin"));
  mkdirSync(join(root, "etc"));
  mkdirSync(join(root, "tmp"), { mode: 0o1777 });
  writeFileSync(join(root, "etc", "fedml-image"), "built by the isolation test\n");
  execFileSync("tar", ["-C", root, "-cf", `${root}.tar`, "."]);
  execFileSync("podman", ["import", `${root}.tar`, tag], { stdio: "ignore" });
}

const podman = (() => {
  try {
    execFileSync("podman", ["--version"], { stdio: "ignore" });
    execFileSync("runc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const registryTools = (() => {
  try {
    execFileSync("docker-registry", ["--version"], { stdio: "ignore" });
    execFileSync("htpasswd", ["-h"], { stdio: "ignore" });
    return true;
  } catch (error) {
    // htpasswd -h exits 2 after printing its usage: it is there.
    return (error as { status?: number }).status === 2;
  }
})();

/** Distribution's registry (Debian's docker-registry) on loopback, with htpasswd (bcrypt) users. */
async function startRegistry(dir: string, user: string, password: string): Promise<{ host: string; stop(): void }> {
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(join(dir, "htpasswd"), execFileSync("htpasswd", ["-Bbn", user, password]));
  const port = await freePort();
  const config = [
    "version: 0.1",
    "log: {level: warn}",
    `storage: {filesystem: {rootdirectory: ${join(dir, "data")}}}`,
    `http: {addr: "127.0.0.1:${port}"}`,
    `auth: {htpasswd: {realm: fedml-test, path: ${join(dir, "htpasswd")}}}`,
    "",
  ].join("\n");
  writeFileSync(join(dir, "config.yml"), config);
  const child = spawn("docker-registry", ["serve", join(dir, "config.yml")], { stdio: "ignore" });
  const host = `127.0.0.1:${port}`;
  await waitFor("the registry to answer", async () => {
    const res = await fetch(`http://${host}/v2/`).catch(() => undefined);
    return res?.status === 401;
  });
  return { host, stop: () => child.kill("SIGTERM") };
}

describe("container jobs", () => {
  const skip = !isRoot ? rootOnly : podman ? {} : { skip: "needs podman and runc (apt-get install podman runc)" };
  const tag = `localhost/fedml-iso-test:${process.pid}`;
  let podBox: AgentProcess | undefined;
  let registry: { host: string; stop(): void } | undefined;
  const registryUser = `fedml-reg-${process.pid}`;
  const registryPassword = randomBytes(12).toString("hex");
  before(async () => {
    if (!isRoot || !podman) return;
    buildLocalImage(tag);
    if (registryTools) registry = await startRegistry(join(tmp.dir, "registry"), registryUser, registryPassword);
    // The runtime's own configuration says the loopback registry speaks plain HTTP; the agent
    // hands its environment to the runtime (and never to a job).
    const conf = join(tmp.dir, "registries.conf");
    writeFileSync(conf, registry ? `[[registry]]\nlocation = "${registry.host}"\ninsecure = true\n` : "");
    const saved = process.env.CONTAINERS_REGISTRIES_CONF;
    process.env.CONTAINERS_REGISTRIES_CONF = conf;
    try {
      // crun refuses hybrid cgroup machines like this one; runc runs there.
      podBox = await startIsolatedAgent("pod-box", "podman --runtime runc");
    } finally {
      if (saved === undefined) delete process.env.CONTAINERS_REGISTRIES_CONF;
      else process.env.CONTAINERS_REGISTRIES_CONF = saved;
    }
  });
  after(async () => {
    await podBox?.stop();
    registry?.stop();
    if (isRoot && podman) execFileSync("podman", ["rmi", "--force", tag], { stdio: "ignore" });
  });

  test(
    "a docker: job is placed on the device with a runtime and runs in its image through podman, as the run's user",
    skip,
    async () => {
      const runId = await launch(
        "in-image",
        `workspace: ws\ndocker:\n  image: ${tag}\njob: |\n  cat /etc/fedml-image\n  echo "uid=$(id -u) home=$HOME"\n  ls /fedml/job/workspace\n`,
        { "marker.txt": "from the workspace\n" },
      );
      const run = await waitForRunEnd(runId, alice, 60_000);
      const lines = await logLines(runId, alice);
      assert.equal(run.status, "FINISHED", lines.join("\n"));
      assert.ok(lines.includes("built by the isolation test"), lines.join("\n"));
      assert.match(lines.find((l) => l.startsWith("uid=")) ?? "", /^uid=[1-9]\d* home=\/fedml\/job\/home$/);
      assert.ok(lines.includes("marker.txt"));
    },
  );

  test(
    "a container job lives in the run's cgroup: stop ends it there, and a memory kill ends FAILED for memory",
    skip,
    async () => {
      const runId = await launch(
        "in-image-stop",
        `docker:\n  image: ${tag}\njob: |\n  trap '' TERM\n  echo ready\n  while :; do sleep 1; done\n`,
      );
      await waitFor("the container job to run", async () => (await logLines(runId, alice)).includes("ready"), 60_000, 100);
      const name = execFileSync("podman", ["ps", "--format", "{{.Names}}", "--filter", `name=fedml-run-${runId}-`])
        .toString()
        .trim();
      const pid = Number(execFileSync("podman", ["inspect", "--format", "{{.State.Pid}}", name]).toString().trim());
      // The container's own cgroup sits inside the run's, in every hierarchy.
      const container = cgroupOf(pid);
      assert.match(container, new RegExp(`/run-${runId}/libpod-[0-9a-f]+$`), "the container is outside the run's cgroup");
      const runPath = container.slice(0, container.lastIndexOf("/"));
      await api.runStop(runId, alice);
      assert.equal((await waitForRunEnd(runId, alice, 60_000)).status, "KILLED");
      assert.ok(!isLive(pid), "the container's process outlived the stop");
      const mounts = readFileSync("/proc/self/mounts", "utf8")
        .split("\n")
        .map((l) => l.split(" "))
        .filter((f) => f[2] === "cgroup" || f[2] === "cgroup2")
        .map((f) => f[1]);
      await waitFor(
        "the run's cgroups removed in every hierarchy",
        () => mounts.every((m) => !existsSync(join(m, runPath))),
        20_000,
        100,
      );

      const hog = await launch(
        "in-image-hog",
        `computing:\n  memory: 32MB\ndocker:\n  image: ${tag}\njob: |\n  s=x; for ((i = 0; i < 30; i++)); do s=$s$s; done\n  echo survived\n`,
      );
      const run = await waitForRunEnd(hog, alice, 60_000);
      assert.equal(run.status, "FAILED", (await logLines(hog, alice)).join("\n"));
      assert.match(run.reason ?? "", /memory limit of 31 MiB \(computing\.memory\)/, `${run.reason} exit ${run.exitCode}`);
      assert.ok(!(await logLines(hog, alice)).includes("survived"));
    },
  );

  test(
    "docker: {image, registry, username, password} pulls with the credentials; a wrong password fails saying why; the credentials show nowhere",
    !isRoot || !podman ? skip : registryTools ? {} : { skip: "needs Debian's docker-registry and apache2-utils (htpasswd)" },
    async () => {
      const host = registry?.host ?? "";
      const image = `fedml-iso/private:${process.pid}`;
      execFileSync("podman", ["tag", tag, `${host}/${image}`]);
      // The test's own push may name the credentials; the agent never does.
      execFileSync(
        "podman",
        ["push", "--tls-verify=false", "--creds", `${registryUser}:${registryPassword}`, `${host}/${image}`],
        {
          stdio: "ignore",
        },
      );
      // Not on the machine any more: the job's run must pull it.
      execFileSync("podman", ["rmi", `${host}/${image}`], { stdio: "ignore" });
      const docker = (password: string) =>
        `docker:\n  image: ${image}\n  registry: ${host}\n  username: ${registryUser}\n  password: ${password}\n`;

      const refused = await launch("wrong-password", `${docker("not-the-password")}job: echo should not run\n`);
      const failed = await waitForRunEnd(refused, alice, 60_000);
      assert.equal(failed.status, "FAILED");
      assert.match(
        failed.reason ?? "",
        new RegExp(`^pulling image ${host}/${image} with the job's registry credentials failed: .*unauthorized`),
      );
      assert.deepEqual(await logLines(refused, alice), []);

      const runId = await launch(
        "right-password",
        `${docker(registryPassword)}job: |\n  cat /etc/fedml-image\n  echo pulled\n  sleep 2\n  export -p\n`,
      );
      await waitFor("the pulled job to run", async () => (await logLines(runId, alice)).includes("pulled"), 60_000, 100);
      const ps = execFileSync("ps", ["-eo", "args"]).toString();
      const run = await waitForRunEnd(runId, alice, 60_000);
      const lines = await logLines(runId, alice);
      assert.equal(run.status, "FINISHED", lines.join("\n"));
      assert.ok(lines.includes("built by the isolation test"));
      assert.ok(
        lines.some((l) => l.startsWith("declare -x FEDML_CURRENT_RUN_ID=")),
        "the job's environment was printed",
      );
      const agentHome = join(tmp.dir, "pod-box-home");
      const agentLogs = readdirSync(agentHome)
        .filter((f) => f.startsWith("agent-") && f.endsWith(".log"))
        .map((f) => readFileSync(join(agentHome, f), "utf8"))
        .join("");
      for (const [where, text] of [
        ["the job's environment and logs", lines.join("\n")],
        ["ps", ps],
        ["the agent's log", agentLogs],
      ]) {
        assert.ok(!text.includes(registryPassword), `the registry password shows in ${where}`);
        assert.ok(!text.includes(registryUser), `the registry user name shows in ${where}`);
      }
      assert.ok(!existsSync(join(agentHome, "runs", runId, "registry-auth")), "the run's credentials outlived it");
      execFileSync("podman", ["rmi", "--force", `${host}/${image}`], { stdio: "ignore" });
    },
  );
});

describe("binding", () => {
  const bindArgs = (home: string, extra: string[]) => [agentBin, "bind", "--home", home, "--server", server.url, ...extra];

  test("the API key can come from stdin, so it never sits in argv", async () => {
    const home = join(tmp.dir, "stdin-home");
    const child = execFile(process.execPath, bindArgs(home, ["--api-key-stdin", "--job-user", "agent"]));
    child.stdin?.end(`${alice.apiKey}\n`);
    const out = await new Promise<string>((resolve, reject) => {
      let text = "";
      child.stdout?.on("data", (chunk) => {
        text += chunk;
      });
      child.once("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`bind exited with ${code}`))));
    });
    assert.match(out, /jobs will run as this agent's own user/);
    assert.match(readFileSync(join(home, "agent.json"), "utf8"), /"deviceToken"/);
  });

  test("an agent that is not root says jobs run as its own user and refuses --shared", rootOnly, async () => {
    const home = join(tmp.dir, "nobody-home");
    mkdirSync(home);
    chownSync(home, 65534, 65534);
    const keyFile = join(home, "key");
    writeFileSync(keyFile, alice.apiKey);
    chownSync(keyFile, 65534, 65534);
    // Runs the agent's bin as the user nobody.
    const asNobody = (extra: string[]) =>
      execFileAsync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, ...bindArgs(home, extra)]);
    await assert.rejects(asNobody(["--api-key-file", keyFile, "--shared"]), /--shared refused: .*\(the agent is not root\)/);
    const { stdout } = await asNobody(["--api-key-file", keyFile]);
    assert.match(stdout, /jobs will run as this agent's own user \(it is not root\)/);
  });

  test("fedml login reads the key from stdin ('-') and from FEDML_API_KEY", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, FEDML_HOME: join(tmp.dir, "login-home") };
    delete env.FEDML_API_KEY;
    const login = execFile(process.execPath, [cliBin, "login", "-", "--server", server.url, "--json"], { env });
    login.stdin?.end(`${alice.apiKey}\n`);
    const code = await new Promise<number | null>((resolve) => login.once("exit", resolve));
    assert.equal(code, 0);
    assert.match(readFileSync(join(tmp.dir, "login-home", "config.json"), "utf8"), new RegExp(alice.apiKey));
    const fromEnv = await execFileAsync(process.execPath, [cliBin, "login", "--server", server.url, "--json"], {
      env: { ...env, FEDML_HOME: join(tmp.dir, "login-env-home"), FEDML_API_KEY: alice.apiKey },
    });
    assert.equal(fromEnv.stdout.trim(), "0");
  });

  test("--shared is refused when jobs would run as the agent's own user, unless the owner allows it", async () => {
    const home = join(tmp.dir, "shared-home");
    mkdirSync(home, { recursive: true });
    const keyFile = join(tmp.dir, "key.txt");
    writeFileSync(keyFile, alice.apiKey, { mode: 0o600 });
    const bind = (extra: string[]) =>
      execFileAsync(process.execPath, bindArgs(home, ["--api-key-file", keyFile, "--shared", ...extra]));
    await assert.rejects(
      bind(["--job-user", "agent"]),
      /--shared refused: jobs on this device would run as the agent's own user/,
    );
    assert.ok(!existsSync(join(home, "agent.json")));
    const { stdout } = await bind(["--job-user", "agent", "--allow-shared-without-isolation"]);
    assert.match(stdout, /bound to/);
  });
});
