// The Slurm backend's pure parts, on output captured from a real Slurm 22.05 (fixtures/slurm).
import assert from "node:assert/strict";
import { mkdtempSync, appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { batchScript, envScript, nodeScript } from "../src/slurm/batch-script.js";
import { clusterShape, expandNodeNames } from "../src/slurm/cluster.js";
import { FileTail } from "../src/slurm/log-tail.js";
import {
  gpusOfTres,
  nodeUsable,
  parseGresGpus,
  parseJobRecord,
  parseNodes,
  parseSbatchJobId,
  parseSqueue,
} from "../src/slurm/parse.js";
import { allocationFor } from "../src/slurm/sizing.js";
import { slurmPartStatus } from "../src/slurm/status.js";

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`fixtures/slurm/${name}`, import.meta.url)), "utf8");

describe("Slurm output parsers (captured from slurm-wlm 22.05.8)", () => {
  test("scontrol show node -o: names, states, partitions, gres GPUs by type, a value with spaces", () => {
    const nodes = parseNodes(fixture("scontrol-show-node.txt"));
    assert.deepEqual(
      nodes.map((n) => [n.name, n.state, n.partitions, n.gpus, n.cpus, n.memoryMb]),
      [
        ["vm", "mixed", ["bench", "fedml"], [{ type: "a100", count: 2 }], 2, 18114],
        ["vm-b", "idle", ["fedml"], [{ type: "a100", count: 2 }], 2, 18114],
      ],
    );
    assert.ok(nodes.every(nodeUsable));
  });

  test("gres strings: typed, untyped, with socket affinity, non-GPU gres left out", () => {
    assert.deepEqual(parseGresGpus("gpu:a100:4(S:0-1),gpu:v100:2,shard:8"), [
      { type: "a100", count: 4 },
      { type: "v100", count: 2 },
    ]);
    assert.deepEqual(parseGresGpus("gpu:8(S:0,1)"), [{ type: null, count: 8 }]);
    assert.deepEqual(parseGresGpus("(null)"), []);
    assert.equal(gpusOfTres("gres:gpu:2"), 2);
    assert.equal(gpusOfTres("gres/gpu:a100=3"), 3);
    assert.equal(gpusOfTres(""), 0);
  });

  test("node states that take no jobs", () => {
    const node = { name: "n", partitions: [], gpus: [], cpus: 1, memoryMb: 1, reason: null };
    for (const state of ["down", "idle+drain", "down*", "mixed+drain", "future", "unknown+not_responding"]) {
      assert.equal(nodeUsable({ ...node, state }), false, state);
    }
    for (const state of ["idle", "mixed", "allocated", "idle+completing"])
      assert.equal(nodeUsable({ ...node, state }), true, state);
  });

  test("squeue -O: every state with its reason, nodes and wait status", () => {
    const jobs = parseSqueue(fixture("squeue.txt"));
    assert.deepEqual(
      jobs.map((j) => [j.jobId, j.state, j.reason, j.nodes, j.waitStatus, j.gpusPerNode, j.numNodes]),
      [
        ["2", "CANCELLED", null, "vm", 15, 2, 1],
        ["3", "CANCELLED", "Resources", null, 0, 2, 2],
        ["1", "COMPLETED", null, "vm,vm-b", 0, 2, 2],
        ["4", "FAILED", "NonZeroExitCode", "vm", 768, 1, 1],
        ["6", "PENDING", "Resources", null, 0, 2, 2],
        ["5", "RUNNING", null, "vm", 0, 2, 1],
      ],
    );
  });

  test("scontrol show job -o: a job squeue no longer lists", () => {
    const job = parseJobRecord(fixture("scontrol-show-job-pending.txt"));
    assert.deepEqual(job, {
      jobId: "6",
      state: "PENDING",
      reason: "Resources",
      nodes: null,
      waitStatus: 0,
      gpusPerNode: 2,
      user: "root",
      numNodes: 2,
      partition: "fedml",
    });
    const failed = parseJobRecord(
      fixture("scontrol-show-job-pending.txt")
        .replace("JobState=PENDING", "JobState=FAILED")
        .replace("ExitCode=0:0", "ExitCode=3:0"),
    );
    assert.equal(failed?.waitStatus, 3 << 8);
  });

  test("sbatch --parsable answers", () => {
    assert.equal(parseSbatchJobId("42\n"), "42");
    assert.equal(parseSbatchJobId("42;cluster-a\n"), "42");
    assert.throws(() => parseSbatchJobId("sbatch: error: Batch job submission failed"), /no job id/);
  });
});

describe("Slurm states as run-part statuses", () => {
  const jobs = new Map(parseSqueue(fixture("squeue.txt")).map((j) => [j.jobId, j]));
  const get = (id: string) => jobs.get(id) as NonNullable<ReturnType<typeof jobs.get>>;

  test("PENDING -> QUEUED with Slurm's reason; RUNNING; COMPLETED -> FINISHED", () => {
    assert.deepEqual(slurmPartStatus(get("6")), {
      status: "QUEUED",
      final: false,
      exitCode: null,
      reason: "Slurm job 6 is pending: Resources",
    });
    assert.equal(slurmPartStatus(get("5")).status, "RUNNING");
    assert.deepEqual(slurmPartStatus(get("1")), { status: "FINISHED", final: true, exitCode: 0, reason: null });
  });

  test("FAILED with the exit code; TIMEOUT, OUT_OF_MEMORY, NODE_FAIL -> FAILED with why", () => {
    assert.deepEqual(slurmPartStatus(get("4")), {
      status: "FAILED",
      final: true,
      exitCode: 3,
      reason: "Slurm job 4 failed: job exited with code 3",
    });
    const ended = (state: string, waitStatus = 0) => slurmPartStatus({ ...get("5"), state, waitStatus, reason: null });
    assert.match(ended("TIMEOUT").reason ?? "", /hit its time limit \(TIMEOUT\)/);
    assert.match(ended("OUT_OF_MEMORY").reason ?? "", /ran out of memory/);
    assert.match(ended("NODE_FAIL").reason ?? "", /lost a node/);
    for (const s of ["TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL", "PREEMPTED"])
      assert.equal(ended(s).status, "FAILED", s);
    assert.equal(ended("FAILED", 9).exitCode, 137, "a signal death as a shell reports it");
  });

  test("CANCELLED -> KILLED: by our stop, or by someone's scancel", () => {
    assert.deepEqual(slurmPartStatus(get("2"), true), {
      status: "KILLED",
      final: true,
      exitCode: null,
      reason: "stopped by the user",
    });
    assert.match(slurmPartStatus(get("2")).reason ?? "", /cancelled in Slurm/);
  });
});

describe("allocations, the batch script, the partition as a device", () => {
  test("a part fits one node, or takes as few whole nodes as hold it", () => {
    assert.deepEqual(allocationFor(0, 4), { nodes: 1, gpusPerNode: 0 });
    assert.deepEqual(allocationFor(2, 4), { nodes: 1, gpusPerNode: 2 });
    assert.deepEqual(allocationFor(16, 4), { nodes: 4, gpusPerNode: 4 });
    assert.deepEqual(allocationFor(6, 4), { nodes: 2, gpusPerNode: 3 });
  });

  test("the batch script asks for what the part needs and runs one task per node", () => {
    const spec = {
      runId: "7",
      dir: "/shared/runs/7",
      cwd: "/shared/runs/7/workspace",
      allocation: { nodes: 4, gpusPerNode: 4 },
      timeLimitMinutes: 90,
      partition: "gpu",
      account: "proj1",
      qos: "normal",
      extraArgs: ["--constraint=a100"],
      hasBootstrap: true,
      ownsWorld: true,
    };
    const script = batchScript(spec);
    for (const line of [
      "#SBATCH --nodes=4",
      "#SBATCH --ntasks-per-node=1",
      "#SBATCH --gres=gpu:4",
      "#SBATCH --time=90",
      "#SBATCH --partition=gpu",
      "#SBATCH --account=proj1",
      "#SBATCH --qos=normal",
      "#SBATCH --constraint=a100",
      "#SBATCH --output=/shared/runs/7/slurm.out",
      "#SBATCH --chdir=/shared/runs/7/workspace",
    ]) {
      assert.ok(script.split("\n").includes(line), line);
    }
    assert.match(
      script,
      /exec srun --label --quiet --kill-on-bad-exit=1 --nodes=4 --ntasks-per-node=1 bash '\/shared\/runs\/7\/node.sh'/,
    );
    assert.match(
      nodeScript(spec),
      /bash '\/shared\/runs\/7\/bootstrap.sh' \|\| exit \$\?\nexec bash '\/shared\/runs\/7\/job.sh'/,
    );
    assert.doesNotMatch(batchScript({ ...spec, allocation: { nodes: 1, gpusPerNode: 0 } }), /srun|--gres/);
  });

  test("env.sh quotes every value and leaves CUDA_VISIBLE_DEVICES to Slurm", () => {
    const text = envScript({ A: "it's $HOME `x`", CUDA_VISIBLE_DEVICES: "0,1", "bad-name": "x" });
    assert.equal(text, "export A='it'\\''s $HOME `x`'\n");
  });

  test("hostlists expand", () => {
    assert.deepEqual(expandNodeNames("gpu[01-03,07],login1"), ["gpu01", "gpu02", "gpu03", "gpu07", "login1"]);
    assert.deepEqual(expandNodeNames("vm,vm-b"), ["vm", "vm-b"]);
  });

  test("the partition's GPUs, those of other users' jobs marked busy, ours not", () => {
    const nodes = parseNodes(fixture("scontrol-show-node.txt"));
    const jobs = parseSqueue(fixture("squeue.txt")).filter((j) => j.state === "RUNNING");
    const othersHold = clusterShape(nodes, "fedml", jobs, new Set());
    assert.equal(othersHold.gpus.length, 4);
    assert.deepEqual(
      othersHold.gpus.map((g) => [g.name, g.busyElsewhere ?? false]),
      [
        ["A100", false],
        ["A100", false],
        ["A100", true],
        ["A100", true],
      ],
    );
    assert.equal(othersHold.gpusPerNode, 2);
    assert.equal(clusterShape(nodes, "fedml", jobs, new Set(["5"])).gpus.filter((g) => g.busyElsewhere).length, 0);
    assert.equal(clusterShape(nodes, "bench", [], new Set()).gpus.length, 2);
  });
});

describe("reading a job's output file", () => {
  test("whole lines only until the end; the offset resumes exactly where the last line ended", () => {
    const dir = mkdtempSync(join(tmpdir(), "fedml-tail-"));
    try {
      const file = join(dir, "out");
      const tail = new FileTail(file, 0);
      assert.deepEqual(tail.read(), [], "no file yet");
      writeFileSync(file, "one\ntw");
      assert.deepEqual(tail.read(), ["one"]);
      appendFileSync(file, "o\r\nthree ünïcode\nlast");
      assert.deepEqual(tail.read(), ["two", "three ünïcode"]);
      const resumed = new FileTail(file, tail.offset);
      assert.deepEqual(resumed.read(true), ["last"]);
      assert.deepEqual(resumed.read(true), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
