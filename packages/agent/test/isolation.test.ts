import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { Assignment } from "@fedml/core";
import { parseCgroupMounts, parseOwnCgroups } from "../src/runner/isolation/cgroup.js";
import { containerRunCommand, imageRef } from "../src/runner/isolation/container.js";
import { buildJobEnv } from "../src/runner/isolation/job-env.js";
import { parsePasswd } from "../src/runner/isolation/job-user.js";
import { sweepJobFolders } from "../src/runner/isolation/run-folder.js";
import { JobRun } from "../src/runner/job-run.js";
import { chooseEvictions } from "../src/runner/workspace.js";

describe("the job's environment", () => {
  test("is built from an allowlist and the job's own variables; the agent's secrets stay out", () => {
    const env = buildJobEnv({
      agentEnv: {
        PATH: "/bin",
        LANG: "C.UTF-8",
        LC_TIME: "C",
        FEDML_API_KEY: "secret",
        AWS_SECRET_ACCESS_KEY: "x",
        HOME: "/root",
      },
      jobVars: { FEDML_CURRENT_RUN_ID: "7", CUDA_VISIBLE_DEVICES: "0" },
      home: "/run/job/home",
      tmpDir: "/run/job/tmp",
      user: "fedml-ab-0",
    });
    assert.deepEqual(env, {
      PATH: "/bin",
      LANG: "C.UTF-8",
      LC_TIME: "C",
      HOME: "/run/job/home",
      TMPDIR: "/run/job/tmp",
      USER: "fedml-ab-0",
      LOGNAME: "fedml-ab-0",
      PYTHONUNBUFFERED: "1",
      FEDML_CURRENT_RUN_ID: "7",
      CUDA_VISIBLE_DEVICES: "0",
    });
  });
});

describe("machine facts", () => {
  test("cgroup mounts and the agent's own cgroups, v1 and v2", () => {
    const mounts = parseCgroupMounts(
      "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\nproc /proc proc rw 0 0\n",
    );
    assert.deepEqual(mounts, [
      { mountPoint: "/sys/fs/cgroup/memory", controllers: ["rw", "relatime", "memory"], v2: false },
      { mountPoint: "/sys/fs/cgroup/unified", controllers: [], v2: true },
    ]);
    const own = parseOwnCgroups("4:memory:/box/1\n1:cpu,cpuacct:/\n0::/user.slice\n");
    assert.equal(own.get("memory"), "/box/1");
    assert.equal(own.get("cpuacct"), "/");
    assert.equal(own.get(""), "/user.slice");
  });

  test("/etc/passwd", () => {
    assert.deepEqual(
      parsePasswd("root:x:0:0:root:/root:/bin/bash\nfedml-ab-0:x:998:997::/nonexistent:/usr/sbin/nologin\n").get("fedml-ab-0"),
      {
        uid: 998,
        gid: 997,
      },
    );
  });
});

describe("disk hygiene", () => {
  test("the cache evicts least recently used archives first and never one a live run holds", () => {
    const archives = [
      { sha256: "a", bytes: 40, lastUsedMs: 1 },
      { sha256: "b", bytes: 40, lastUsedMs: 2 },
      { sha256: "c", bytes: 40, lastUsedMs: 3 },
    ];
    assert.deepEqual(chooseEvictions(archives, 100, new Set()), ["a"]);
    assert.deepEqual(chooseEvictions(archives, 50, new Set(["a"])), ["b", "c"]);
    assert.deepEqual(chooseEvictions(archives, 10, new Set(["a", "b", "c"])), []);
    assert.deepEqual(chooseEvictions(archives, 120, new Set()), []);
  });

  test("ended runs' folders go once older than the retention, live ones never", () => {
    const root = mkdtempSync(join(tmpdir(), "fedml-sweep-"));
    try {
      for (const name of ["old", "fresh", "live"]) mkdirSync(join(root, name));
      const hourAgo = new Date(Date.now() - 3600_000);
      utimesSync(join(root, "old"), hourAgo, hourAgo);
      utimesSync(join(root, "live"), hourAgo, hourAgo);
      const removed = sweepJobFolders(root, 60_000, (id) => id === "live");
      assert.deepEqual(removed, ["old"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("containers", () => {
  test("the runtime's command line mounts the job folder, runs as the job's user, with limits, env from a file", () => {
    const args = containerRunCommand({
      runtime: { kind: "podman", command: ["podman", "--runtime", "runc"] },
      spec: { image: "pytorch:2", registry: "reg.example", username: null, password: null, ports: [8080] },
      name: "fedml-run-7-1",
      jobDir: "/jobs/7/job",
      script: "job.sh",
      cwd: "workspace",
      envFile: "/home/agent/runs/7/container.env",
      user: { uid: 998, gid: 997 },
      limits: { memoryBytes: 1e9, cpus: 2 },
      cgroupParent: null,
      auth: null,
    });
    assert.deepEqual(args.slice(0, 6), ["podman", "--runtime", "runc", "run", "--rm", "--name"]);
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(after("--volume"), "/jobs/7/job:/fedml/job");
    assert.equal(after("--workdir"), "/fedml/job/workspace");
    assert.equal(after("--user"), "998:997");
    assert.equal(after("--memory"), "1000000000");
    assert.equal(after("--cpus"), "2");
    assert.equal(after("--publish"), "8080:8080");
    assert.deepEqual(args.slice(-3), ["reg.example/pytorch:2", "bash", "/fedml/job/job.sh"]);
    assert.equal(
      imageRef({ image: "reg.example/x", registry: "reg.example", username: null, password: null, ports: [] }),
      "reg.example/x",
    );
  });

  test("a container job on an agent without a runtime FAILS with the reason and runs nothing on the host", async () => {
    const home = mkdtempSync(join(tmpdir(), "fedml-noruntime-"));
    try {
      const lines: string[] = [];
      const assignment: Assignment = {
        runId: "run-image",
        rank: 1,
        nodeIndex: 0,
        numNodes: 1,
        gpuIndices: [],
        workspaceSha256: null,
        bootstrap: null,
        job: { posix: "echo ran on the host", windows: null },
        env: {},
        stopRequested: false,
        stopGraceMs: 1000,
        container: { image: "pytorch:2", registry: null, username: null, password: null, ports: [] },
      };
      const run = new JobRun(assignment, {
        home,
        prepareWorkspace: async () => home,
        onLine: (_stream, text) => lines.push(text),
        onStatus: () => {},
        log: () => {},
      });
      const outcome = await run.done;
      assert.equal(outcome.status, "FAILED");
      assert.match(
        outcome.reason ?? "",
        /must run in image pytorch:2 and this device has no container runtime .* it was not run/,
      );
      assert.deepEqual(lines, []);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
