// Reads made on every queue pass, launch or tick must cost what is live, not what happened
// before: a user's sweep leaves hundreds of thousands of ended runs behind. On a real database
// (SQLite, or PostgreSQL with FEDML_TEST_DATABASE_URL) each such read answers right over a
// history of ended runs; on SQLite, which keeps no statistics to plan with, each is also checked
// to start from the live rows (its plan never walks the runs of an owner, a status or a workspace).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import SqliteDatabase from "better-sqlite3";
import type { DeviceFacts } from "@fedml/core";
import type { CompiledQuery, Kysely, KyselyPlugin, RootOperationNode } from "kysely";
import type { Store } from "../src/store/db.js";
import { insertDevice } from "../src/store/devices.js";
import { listReplicasOfEndedRuns } from "../src/store/endpoint-replicas.js";
import { partsPastRetention } from "../src/store/logs.js";
import { migrateToLatest } from "../src/store/migrations.js";
import { ensureProject } from "../src/store/projects.js";
import {
  billingPartDigests,
  countRunsPerDevice,
  lastServedByOwner,
  listBillingParts,
  liveRunOnDeviceWith,
} from "../src/store/runs.js";
import type { Database } from "../src/store/schema.js";
import { insertUser } from "../src/store/users.js";
import { onPostgres, openTestStore } from "./support/database.js";
import { runRow } from "./support/store-rows.js";
import { tempDir } from "./support/tmp.js";

const ENDED_RUNS = 300;
const SWEEP_WORKSPACE = "a".repeat(64);

const paidDevice: DeviceFacts = {
  name: "paid",
  hostname: "paid",
  osType: "Linux",
  osVersion: "6",
  cpuCount: 4,
  memoryBytes: 8 * 2 ** 30,
  gpus: [{ index: 0, name: "A100", memoryMiB: 81920 }],
  agentVersion: "0.1.0",
  address: "127.0.0.1",
  provider: "self",
  region: "here",
  pricePerGpuHour: 2,
  shared: true,
  simulated: true,
  maxJobs: 2,
};

/** The statements `db` runs, compiled as they were sent. */
function recording(db: Kysely<Database>): { db: Kysely<Database>; sent: CompiledQuery[] } {
  const sent: CompiledQuery[] = [];
  const executor = db.getExecutor();
  const plugin: KyselyPlugin = {
    transformQuery: ({ node, queryId }) => {
      sent.push(executor.compileQuery(node as RootOperationNode, queryId));
      return node;
    },
    transformResult: async ({ result }) => result,
  };
  return { db: db.withPlugin(plugin), sent };
}

describe("reads on every pass and tick over a long history of ended runs", () => {
  const tmp = tempDir("history-reads");
  let store: Store;
  let owner: number;
  let idle: number;
  let device: number;
  let livePart: number;
  let endedIds: number[];

  before(async () => {
    store = await openTestStore(tmp.dir);
    await migrateToLatest(store.db, store.dialect);
    const db = store.db;
    owner = (await insertUser(db, "sweeper", false, 1))?.id as number;
    idle = (await insertUser(db, "idle", false, 1))?.id as number;
    const project = await ensureProject(db, owner, "default", 1);
    device = (await insertDevice(db, owner, paidDevice, "token", 1)).id;
    const run = (i: number, status: string) => ({
      ...runRow(owner, project.id, 'job: "true"\n', `r${i}`, i, status),
      // A sweep: every run of one workspace.
      workspace_sha256: SWEEP_WORKSPACE,
      started_at: i,
      ended_at: status === "FINISHED" ? i + 1 : null,
      placed_at: i,
    });
    const ended = await db
      .insertInto("runs")
      .values(Array.from({ length: ENDED_RUNS }, (_, i) => run(i + 1, "FINISHED")))
      .returning("id")
      .execute();
    const live = await db
      .insertInto("runs")
      .values(run(ENDED_RUNS + 1, "RUNNING"))
      .returning("id")
      .executeTakeFirstOrThrow();
    livePart = live.id;
    endedIds = ended.map((r) => r.id);
    // The first ten ended parts still keep a log; parts end with their runs (run i at i + 1).
    const part = (runId: number, status: string, i: number) => ({
      run_id: runId,
      device_id: device,
      rank: 0,
      node_index: 0,
      status,
      gpu_indices_json: "[0]",
      exit_code: null,
      reason: null,
      started_at: 1,
      ended_at: status === "FINISHED" ? i + 1 : null,
      log_count: status === "FINISHED" && i <= 10 ? 5 : 0,
      log_bytes: status === "FINISHED" && i <= 10 ? 50 : 0,
      price_per_gpu_hour_micros: 2_000_000,
      stop_requested: 0,
    });
    await db
      .insertInto("run_devices")
      .values([...ended.map((r, i) => part(r.id, "FINISHED", i + 1)), part(live.id, "RUNNING", ENDED_RUNS + 1)])
      .execute();
  });
  after(async () => {
    await store.close();
    tmp.cleanup();
  });

  test("each read answers from the live rows only", async () => {
    const billing = await listBillingParts(store.db, [owner, idle]);
    assert.deepEqual(
      billing.map((p) => [p.run_id, p.owner_id]),
      [[livePart, owner]],
    );
    assert.deepEqual([...(await billingPartDigests(store.db)).keys()], [owner]);
    // The owner's latest placement; an owner who never had one placed is left out.
    assert.deepEqual([...(await lastServedByOwner(store.db, [owner, idle, owner]))], [[owner, ENDED_RUNS + 1]]);
    assert.deepEqual([...(await countRunsPerDevice(store.db, [device]))], [[device, ENDED_RUNS + 1]]);
    assert.deepEqual(await listReplicasOfEndedRuns(store.db), []);
    // Of the sweep's runs, the device may fetch the workspace for its live one.
    assert.deepEqual(await liveRunOnDeviceWith(store.db, device, SWEEP_WORKSPACE), { id: livePart });
    // Runs 1..10 kept logs; those ended before 6 (at 2..5) are past a retention ending at 6.
    assert.deepEqual(
      (await partsPastRetention(store.db, 6, 200)).map((p) => p.run_id),
      endedIds.slice(0, 4),
    );
  });

  test(
    "on SQLite, no plan walks the runs of an owner, a status or a workspace",
    { skip: onPostgres && "plans are SQLite's" },
    async () => {
      const { db, sent } = recording(store.db);
      await listBillingParts(db, [owner]);
      await listBillingParts(db, owner);
      await billingPartDigests(db);
      await lastServedByOwner(db, [owner]);
      await listReplicasOfEndedRuns(db);
      await partsPastRetention(db, 6, 200);
      await liveRunOnDeviceWith(db, device, SWEEP_WORKSPACE);
      assert.equal(sent.length, 7);
      const sqlite = new SqliteDatabase(join(tmp.dir, "server", "fedml.db"), { readonly: true });
      try {
        for (const query of sent) {
          const plan = sqlite.prepare(`explain query plan ${query.sql}`).all(...(query.parameters as unknown[])) as {
            id: number;
            parent: number;
            detail: string;
          }[];
          // A correlated max over one owner's runs is a seek to the end of the owner's index
          // entries: its steps are the one place an owner's index is fine.
          const seeking = new Set<number>();
          for (const step of plan) {
            if (step.detail.startsWith("CORRELATED SCALAR SUBQUERY") || seeking.has(step.parent)) seeking.add(step.id);
          }
          // Walking: a whole table, or runs found by an index on anything but their id (a lookup
          // of one run by id, through whichever index holds it, reads one entry).
          const walks = plan.filter(
            (step) =>
              !seeking.has(step.id) &&
              (/^SCAN (runs|run_devices)\b/.test(step.detail) ||
                (/\bruns USING (COVERING )?INDEX (runs_owner_\w+|runs_queue_turn|runs_status|runs_workspace)\b/.test(
                  step.detail,
                ) &&
                  !/\browid=\?/.test(step.detail))),
          );
          assert.deepEqual(
            walks.map((step) => step.detail),
            [],
            `${query.sql}\n  plan: ${plan.map((step) => step.detail).join(" | ")}`,
          );
        }
      } finally {
        sqlite.close();
      }
    },
  );
});
