import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type RunningScript, type ScriptOptions, startScript } from "../src/runner/process-group.js";
import { JobSpawner, encodeRequest } from "../src/runner/spawner/job-spawner.js";
import { eventually, isProcessLive, liveGroupMembers } from "./support.js";

const isRoot = process.getuid?.() === 0;

describe("job spawner", () => {
  let root: string;
  let spawner: JobSpawner;

  before(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), "fedml-spawner-")));
    const started = JobSpawner.start(join(root, "fifos"));
    assert.ok(started, "perl is on this machine: the spawner starts");
    spawner = started;
  });
  after(() => {
    spawner.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function run(command: string[], extra: Partial<ScriptOptions> = {}) {
    const lines: string[] = [];
    const script: RunningScript = await startScript({
      script: "",
      command,
      cwd: root,
      env: { PATH: "/usr/bin:/bin", ODD: "it's\na 'value'" },
      onLine: (stream, text) => lines.push(`${stream}: ${text}`),
      spawner,
      ...extra,
    });
    return { script, lines, exit: () => script.exited };
  }

  test("the job gets exactly its env, cwd, /dev/null stdin, a session of its own and no ignored or blocked signal", async () => {
    const job = await run([
      "/bin/sh",
      "-c",
      'awk "BEGIN { for (k in ENVIRON) print k }" | sort | tr "\\n" " "; echo; printf "%s|\\n" "$ODD"; pwd; read x || echo "stdin: eof"; ps -o pid=,pgid=,sid= -p $$; grep -E "^Sig(Ign|Blk)" /proc/self/status; echo oops >&2; exit 3',
    ]);
    const exit = await job.exit();
    assert.deepEqual(exit, { exitCode: 3, signal: null });
    const pid = job.script.pid;
    assert.deepEqual(
      job.lines.filter((l) => l.startsWith("stdout: ")).map((l) => l.slice(8).trim().replace(/\s+/g, " ")),
      [
        // PWD is sh's own.
        "ODD PATH PWD",
        "it's",
        "a 'value'|",
        root,
        "stdin: eof",
        `${pid} ${pid} ${pid}`,
        "SigBlk: 0000000000000000",
        "SigIgn: 0000000000000000",
      ],
    );
    assert.deepEqual(
      job.lines.filter((l) => l.startsWith("stderr: ")),
      ["stderr: oops"],
    );
  });

  test("a signal death is told as the signal, as a shell would", async () => {
    const job = await run(["/bin/sh", "-c", "kill -TERM $$"]);
    assert.deepEqual(await job.exit(), { exitCode: 143, signal: "SIGTERM" });
  });

  test("a program that cannot run, or a cgroup that cannot be joined, fails saying why and runs nothing", async () => {
    const missing = await run([join(root, "no-such-program")]);
    await assert.rejects(missing.exit(), /cannot run .*no-such-program: No such file or directory/);
    const marker = join(root, "ran");
    const cgroup = {
      procFiles: () => [join(root, "no-such-cgroup", "cgroup.procs")],
      killAll: () => true,
      isEmpty: () => true,
      signalAll: () => {},
    } as unknown as NonNullable<ScriptOptions["cgroup"]>;
    const outside = await run(["/bin/sh", "-c", `touch ${marker}`], { cgroup });
    await assert.rejects(outside.exit(), /cannot put the job in its cgroup/);
    assert.deepEqual(
      readdirSync(root).filter((f) => f === "ran"),
      [],
    );
  });

  test("output goes on until the last process holding it ends; stop reaches the whole group", async () => {
    const job = await run(["/bin/sh", "-c", "(sleep 0.3; echo late) & echo early"]);
    const exit = await job.exit();
    assert.equal(exit.exitCode, 0);
    // The straggler is killed with its group once the main process exits, as with a fork of the agent.
    assert.ok(job.lines.includes("stdout: early"));

    const long = await run(["/bin/sh", "-c", "sleep 30 & sleep 30 & wait"]);
    assert.ok(await eventually(() => liveGroupMembers(long.script.pid).length >= 3, 5000));
    long.script.stop(5000);
    const stopped = await long.exit();
    assert.equal(stopped.signal, "SIGTERM");
    assert.ok(await eventually(() => liveGroupMembers(long.script.pid).length === 0, 5000));
  });

  test("a job run as another user has that user's ids and no other group", { skip: !isRoot && "needs root" }, async () => {
    const job = await run(["/usr/bin/id"], { user: { uid: 65534, gid: 65534 }, cwd: "/" });
    assert.equal((await job.exit()).exitCode, 0);
    const id = job.lines.join("\n");
    assert.match(id, /uid=65534\b.* gid=65534\b/);
    assert.match(id, /groups=65534(\(\w+\))?$/);
  });

  test("the fifos of a slot are reused only once nothing holds them", async () => {
    for (let i = 0; i < 5; i++) assert.equal((await (await run(["/bin/true"])).exit()).exitCode, 0);
    assert.ok(readdirSync(join(root, "fifos")).length <= 2 * 4, "slots are reused job after job");
  });

  test("a NUL byte in the job's env is refused, as child_process.spawn would", () => {
    assert.throws(
      () => encodeRequest("1", "/a", "/b", { argv: ["/bin/true"], cwd: "/", env: { BAD: "a\0b" }, user: null, cgroupFiles: [] }),
      /NUL byte/,
    );
  });

  test("when the spawner dies, its running jobs end failed instead of hanging, and new ones are refused", async () => {
    const other = JobSpawner.start(join(root, "fifos-2"));
    assert.ok(other);
    const job = await startScript({
      script: "",
      command: ["/bin/sleep", "30"],
      cwd: root,
      env: { PATH: "/usr/bin:/bin" },
      onLine: () => {},
      spawner: other,
    });
    process.kill(other.pid as number, "SIGKILL");
    await assert.rejects(job.exited, /the job spawner ended/);
    assert.ok(await eventually(() => !isProcessLive(job.pid), 5000));
    const refused = await startScript({
      script: "",
      command: ["/bin/true"],
      cwd: root,
      env: {},
      onLine: () => {},
      spawner: other,
    });
    await assert.rejects(refused.exited, /the job spawner ended/);
  });
});
