import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { RunStatus, parseJobYaml } from "@fedml/core";
import { buildServer } from "../src/app.js";
import { queueOptions } from "../src/runs/needs.js";
import { fairOrder } from "../src/scheduler/fair-queue.js";
import { migrateToLatest } from "../src/store/migrations.js";
import { ensureProject } from "../src/store/projects.js";
import { listQueueHeads } from "../src/store/runs.js";
import { findUserByName, insertUser } from "../src/store/users.js";
import { deviceFacts } from "./support/server.js";
import { databaseUrlFor, openTestStore } from "./support/database.js";
import { tempDir } from "./support/tmp.js";

const run = (id: number, owner: number, created: number, priority = 0) => ({
  id,
  owner_id: owner,
  priority,
  created_at: created,
});

describe("fairOrder", () => {
  test("users take turns within a priority, each user's runs oldest first", () => {
    const runs = [run(1, 1, 1), run(2, 1, 2), run(3, 1, 3), run(4, 2, 4), run(5, 3, 5), run(6, 2, 6)];
    assert.deepEqual(
      fairOrder(runs).map((r) => r.id),
      [1, 4, 5, 2, 6, 3],
    );
  });

  test("the user served least recently goes first", () => {
    const runs = [run(1, 1, 1), run(2, 1, 2), run(3, 2, 3)];
    assert.deepEqual(
      fairOrder(runs, new Map([[1, 500]])).map((r) => r.id),
      [3, 1, 2],
    );
    assert.deepEqual(
      fairOrder(
        runs,
        new Map([
          [1, 500],
          [2, 900],
        ]),
      ).map((r) => r.id),
      [1, 3, 2],
    );
  });

  test("higher priority first, FIFO within it", () => {
    const runs = [run(1, 1, 1), run(2, 2, 2, 5), run(3, 1, 3, 5), run(4, 2, 4, -1)];
    assert.deepEqual(
      fairOrder(runs).map((r) => r.id),
      [2, 3, 1, 4],
    );
  });
});

describe("queue options from computing", () => {
  test("priority and retry.limit are read and checked", () => {
    const spec = (computing: string) => parseJobYaml(`job: echo\ncomputing:\n${computing}`, { path: "j.yaml" });
    assert.deepEqual(queueOptions(spec("  minimum_num_gpus: 1\n")), { priority: 0, retryLimit: 0 });
    assert.deepEqual(queueOptions(spec("  priority: 7\n  retry:\n    limit: 2\n")), { priority: 7, retryLimit: 2 });
    assert.deepEqual(queueOptions(spec("  retry: 3\n")), { priority: 0, retryLimit: 3 });
    assert.throws(() => queueOptions(spec("  priority: high\n")), /computing.priority must be a whole number/);
    assert.throws(() => queueOptions(spec("  retry: {limit: -1}\n")), /computing.retry.limit/);
  });
});

describe("the queue heads a pass reads", () => {
  test("each user the same number of runs: 50 among many users, an equal share of the total among few", async () => {
    const tmp = tempDir("heads");
    const store = await openTestStore(tmp.dir);
    try {
      await migrateToLatest(store.db, store.dialect);
      const owners: number[] = [];
      for (const name of ["lone", "second", "third"]) {
        const user = (await insertUser(store.db, name, false, 1))!;
        const project = await ensureProject(store.db, user.id, "default", 1);
        owners.push(user.id);
        await store.db
          .insertInto("runs")
          .values(
            Array.from({ length: 400 }, (_, i) => ({
              owner_id: user.id,
              project_id: project.id,
              name: "queued",
              status: RunStatus.QUEUED,
              job_type: "train",
              platform: "falcon",
              yaml_text: "job: echo hi\n",
              spec_json: "{}",
              workspace_sha256: null,
              resource_id: null,
              reason: null,
              exit_code: null,
              created_at: 1000 + i,
              started_at: null,
              ended_at: null,
              stop_requested: 0,
            })),
          )
          .execute();
      }
      const perOwner = (rows: { owner_id: number }[]) => owners.map((o) => rows.filter((r) => r.owner_id === o).length);
      // Three users share 600: 200 each, the oldest of each.
      const shared = await listQueueHeads(store.db, { perUser: 50, total: 600 });
      assert.deepEqual(perOwner(shared), [200, 200, 200]);
      assert.equal(Math.max(...shared.filter((r) => r.owner_id === owners[0]).map((r) => r.created_at)), 1199);
      // A share below the floor: the floor.
      assert.deepEqual(perOwner(await listQueueHeads(store.db, { perUser: 50, total: 30 })), [50, 50, 50]);
      // A lone user's queue: the whole total.
      await store.db.deleteFrom("runs").where("owner_id", "in", owners.slice(1)).execute();
      assert.deepEqual(perOwner(await listQueueHeads(store.db, { perUser: 50, total: 300 })), [300, 0, 0]);
    } finally {
      await store.close();
      tmp.cleanup();
    }
  });
});

describe("a durable, fair queue on a real server", () => {
  test("one user's 10,000 queued runs do not starve another's single run, across a restart", async () => {
    const tmp = tempDir("fair");
    const opts = { home: tmp.dir, port: 0, logLevel: "silent", tickMs: 60_000, databaseUrl: await databaseUrlFor(tmp.dir) };
    let server = await buildServer(opts);
    const call = async (key: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      // biome-ignore lint/suspicious/noExplicitAny: the test reads JSON bodies field by field.
      return (await res.json()) as any;
    };
    try {
      const adminKey = (await import("node:fs")).readFileSync(join(tmp.dir, "server", "admin-key"), "utf8").trim();
      const hogKey = (await call(adminKey, "POST", "/api/v1/users", { name: "hog" })).apiKey;
      const meekKey = (await call(adminKey, "POST", "/api/v1/users", { name: "meek" })).apiKey;
      const device = await call(hogKey, "POST", "/api/v1/agent/register", {
        facts: deviceFacts("one-gpu", { gpus: [{ index: 0, name: "NVIDIA A100", memoryMiB: 1 }], maxJobs: 1, shared: true }),
      });
      await server.close();

      // Straight into the store while the server is down: 10,000 runs of hog, then one of meek.
      const store = await openTestStore(tmp.dir);
      const yaml = "job: echo hi\ncomputing:\n  minimum_num_gpus: 1\n";
      const spec = JSON.stringify(parseJobYaml(yaml, { path: "job.yaml" }));
      const hog = (await findUserByName(store.db, "hog"))!;
      const meek = (await findUserByName(store.db, "meek"))!;
      const row = (ownerId: number, projectId: number, t: number) => ({
        owner_id: ownerId,
        project_id: projectId,
        name: "queued",
        status: RunStatus.QUEUED,
        job_type: "train",
        platform: "falcon",
        yaml_text: yaml,
        spec_json: spec,
        workspace_sha256: null,
        resource_id: null,
        reason: null,
        exit_code: null,
        created_at: t,
        started_at: null,
        ended_at: null,
        stop_requested: 0,
      });
      const hogProject = await ensureProject(store.db, hog.id, "default", 1);
      for (let start = 0; start < 10_000; start += 500) {
        await store.db
          .insertInto("runs")
          .values(Array.from({ length: 500 }, (_, i) => row(hog.id, hogProject.id, 1000 + start + i)))
          .execute();
      }
      const meekProject = await ensureProject(store.db, meek.id, "default", 1);
      const meekRun = await store.db
        .insertInto("runs")
        .values(row(meek.id, meekProject.id, 50_000))
        .returningAll()
        .executeTakeFirstOrThrow();
      await store.close();

      server = await buildServer({ ...opts });
      await waitUntilStarting(async () => (await call(hogKey, "GET", "/api/v1/runs?runId=1")).runList[0]?.status);
      const meekStatus = async () => (await call(meekKey, "GET", `/api/v1/runs/${meekRun.id}`)).status;
      assert.equal(await meekStatus(), "QUEUED", "the one GPU went to the oldest run");

      // The hog's first run ends: the next turn is meek's, not the hog's 2nd of 10,000.
      const token = device.deviceToken as string;
      await call(token, "POST", "/api/v1/agent/runs/1/status", { status: "RUNNING" });
      await call(token, "POST", "/api/v1/agent/runs/1/status", { status: "FINISHED", exitCode: 0 });
      // Placed by the queue loop, which the report woke.
      await waitUntilStarting(meekStatus);
      assert.equal((await call(hogKey, "GET", "/api/v1/runs/2")).status, "QUEUED");
    } finally {
      await server.close();
      tmp.cleanup();
    }
  });
});

async function waitUntilStarting(read: () => Promise<string | undefined>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await read()) === "STARTING") return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("run 1 never started");
}
