import assert from "node:assert/strict";
import { test } from "node:test";
import { sumCosts } from "../src/runs/cost-report.js";
import { partCost } from "../src/billing/part-cost.js";
import type { RunDeviceRow } from "../src/store/runs.js";

const HOUR = 3_600_000;
const part = (
  runId: number,
  deviceId: number,
  price: number,
  gpus: number,
  start: number | null,
  end: number | null,
): RunDeviceRow => ({
  run_id: runId,
  device_id: deviceId,
  rank: 1,
  node_index: 0,
  status: "FINISHED",
  gpu_indices_json: JSON.stringify(Array.from({ length: gpus }, (_, i) => i)),
  exit_code: 0,
  reason: null,
  started_at: start,
  ended_at: end,
  log_count: 0,
  price_per_gpu_hour_micros: price * 1_000_000,
  stop_requested: 0,
  log_bytes: 0,
  log_capped: 0,
  stop_requested_at: null,
  runtime_ms: null,
});

test("a part costs price x GPUs x hours; unstarted or free parts cost nothing; live parts count to now", () => {
  // Whole micro-dollars.
  assert.equal(partCost(part(1, 1, 2, 4, 0, HOUR / 2), 0), 4_000_000);
  assert.equal(partCost(part(1, 1, 2, 4, null, null), HOUR), 0);
  assert.equal(partCost(part(1, 1, 0, 4, 0, HOUR), HOUR), 0);
  assert.equal(partCost(part(1, 1, 1, 1, 0, null), 3 * HOUR), 3_000_000);
});

test("costs sum by project and by provider, counting each run once per line", () => {
  const report = sumCosts(
    [
      { part: part(1, 1, 1, 2, 0, HOUR), project: "a", provider: "runpod" },
      { part: part(1, 2, 2, 2, 0, HOUR), project: "a", provider: "lambda" },
      { part: part(2, 1, 1, 1, 0, HOUR), project: "b", provider: "runpod" },
      { part: part(3, 3, 0, 1, 0, HOUR), project: "b", provider: "" },
    ],
    HOUR,
  );
  assert.equal(report.total, 7);
  assert.deepEqual(report.byProject, [
    { key: "a", cost: 6, runs: 1, gpuHours: 4 },
    { key: "b", cost: 1, runs: 2, gpuHours: 2 },
  ]);
  assert.deepEqual(report.byProvider, [
    { key: "lambda", cost: 4, runs: 1, gpuHours: 2 },
    { key: "runpod", cost: 3, runs: 2, gpuHours: 3 },
    { key: "(none)", cost: 0, runs: 1, gpuHours: 1 },
  ]);
});
