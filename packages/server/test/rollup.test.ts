import assert from "node:assert/strict";
import { test } from "node:test";
import { rolledUpRun } from "../src/runs/rollup.js";
import type { RunDeviceRow, RunRow } from "../src/store/runs.js";

const run = (over: Partial<RunRow> = {}): RunRow => ({
  id: 1,
  owner_id: 1,
  project_id: 1,
  name: "r",
  status: "STARTING",
  job_type: "train",
  platform: "falcon",
  yaml_text: "",
  spec_json: "{}",
  workspace_sha256: null,
  resource_id: null,
  reason: null,
  exit_code: null,
  created_at: 0,
  started_at: null,
  ended_at: null,
  stop_requested: 0,
  cluster_id: null,
  priority: 0,
  retries_left: 0,
  retry_of: null,
  placed_at: null,
  ...over,
});
const part = (over: Partial<RunDeviceRow> = {}): RunDeviceRow => ({
  run_id: 1,
  device_id: 1,
  rank: 1,
  node_index: 0,
  status: "QUEUED",
  gpu_indices_json: "[]",
  exit_code: null,
  reason: null,
  started_at: null,
  ended_at: null,
  log_count: 0,
  price_per_gpu_hour_micros: 0,
  stop_requested: 0,
  log_bytes: 0,
  log_capped: 0,
  stop_requested_at: null,
  runtime_ms: null,
  ...over,
});

test("a placed part not yet taken keeps the run STARTING", () => {
  assert.equal(rolledUpRun(run(), [part()], 5).status, "STARTING");
});

test("RUNNING sets started_at from the part", () => {
  const changes = rolledUpRun(run(), [part({ status: "RUNNING", started_at: 3 })], 5);
  assert.deepEqual(changes, { status: "RUNNING", started_at: 3, reason: null });
});

test("a failed part fails the run with its exit code and reason", () => {
  const changes = rolledUpRun(
    run({ started_at: 3 }),
    [part({ status: "FAILED", started_at: 3, ended_at: 9, exit_code: 2, reason: "the job exited with code 2" })],
    10,
  );
  assert.deepEqual(changes, { status: "FAILED", ended_at: 9, exit_code: 2, reason: "the job exited with code 2" });
});

test("a stop request holds the run at STOPPING until the parts end", () => {
  assert.equal(rolledUpRun(run({ stop_requested: 1 }), [part({ status: "RUNNING" })], 5).status, "STOPPING");
  assert.equal(rolledUpRun(run({ stop_requested: 1 }), [part({ status: "KILLED", ended_at: 6 })], 7).status, "KILLED");
});
