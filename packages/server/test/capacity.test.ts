import assert from "node:assert/strict";
import { test } from "node:test";
import { toCandidates } from "../src/scheduler/capacity.js";

test("GPUs a batch system's other jobs hold count in the device but are not free", () => {
  const gpus = [0, 1, 2, 3].map((index) => ({
    index,
    name: "A100",
    memoryMiB: 0,
    ...(index >= 2 ? { busyElsewhere: true } : {}),
  }));
  const device = { id: 1, name: "hpc", gpus_json: JSON.stringify(gpus), max_jobs: 8, price_per_gpu_hour_micros: 0 };
  const [idle] = toCandidates([device], []);
  assert.deepEqual(
    idle.gpus.map((g) => g.index),
    [0, 1, 2, 3],
    "the device keeps all its GPUs: a 4-GPU job may wait for it",
  );
  assert.deepEqual(idle.freeGpuIndices, [0, 1]);
  const [busy] = toCandidates([device], [{ device_id: 1, gpu_indices_json: "[0]" }]);
  assert.deepEqual(busy.freeGpuIndices, [1]);
});
