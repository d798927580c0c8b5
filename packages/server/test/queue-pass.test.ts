import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RunStatus, parseJobYaml } from "@fedml/core";
import { scopeCandidates } from "../src/clusters/scope.js";
import { CandidateIndex } from "../src/scheduler/candidate-index.js";
import { toCandidates } from "../src/scheduler/capacity.js";
import { type QueuePassInput, decideInSteps } from "../src/scheduler/queue-pass.js";

const spec = JSON.stringify(parseJobYaml("job: echo hi\ncomputing:\n  minimum_num_gpus: 1\n  maximum_cost_per_hour: 100\n"));

/** Four shared 2-GPU devices and ten one-GPU runs from two users: eight fit. */
function input(): QueuePassInput {
  const devices = [1, 2, 3, 4].map((id) => ({
    id,
    name: `d${id}`,
    owner_id: 99,
    shared: 1,
    gpus_json: JSON.stringify([0, 1].map((index) => ({ index, name: "A100", memoryMiB: 81920 }))),
    max_jobs: 2,
    price_per_gpu_hour_micros: 1_000_000,
    provider: "p",
    region: "r",
    simulated: 1,
    container_runtime: null,
    last_seen_at: 1,
  }));
  const heads = Array.from({ length: 10 }, (_, i) => ({
    id: i + 1,
    owner_id: (i % 2) + 1,
    status: RunStatus.QUEUED,
    job_type: "train",
    spec_json: spec,
    resource_id: null,
    reason: null,
    created_at: i,
    cluster_id: null,
    priority: 0,
  }));
  return { clusterRuns: [], heads, snapshot: { devices, live: [], reservations: [] }, credit: new Map(), lastServed: new Map() };
}

function run<T>(steps: Generator<unknown, T, undefined>): { value: T; pauses: number } {
  for (let pauses = 0; ; pauses++) {
    const step = steps.next();
    if (step.done) return { value: step.value, pauses };
  }
}

describe("a queue pass's decision in steps", () => {
  test("pauses every few runs and decides as it would in one go, no GPU given twice", () => {
    const stepped = run(decideInSteps(input(), 3));
    const whole = run(decideInSteps(input(), 1_000));
    assert.equal(stepped.pauses, 3, "10 runs in steps of 3");
    assert.equal(whole.pauses, 0);
    const placed = (d: typeof whole.value) =>
      d.placements.map((p) => `${p.run.id}:${p.nodes.map((n) => `${n.deviceId}/${n.gpuIndices.join(",")}`).join(" ")}`);
    assert.deepEqual(placed(stepped.value), placed(whole.value));
    assert.equal(whole.value.placements.length, 8);
    const gpus = whole.value.placements.flatMap((p) => p.nodes.flatMap((n) => n.gpuIndices.map((g) => `${n.deviceId}/${g}`)));
    assert.equal(new Set(gpus).size, gpus.length);
    assert.equal(whole.value.reasons.length, 2, "the two that wait get a reason");
  });

  test("a window that placed runs with GPUs left asks for the next one and decides it on the same view", () => {
    const all = input();
    const steps = decideInSteps({ ...all, heads: all.heads.slice(0, 3) }, 1_000);
    let step = steps.next();
    assert.equal(step.done, false);
    assert.equal(!step.done && step.value.windowDone, true, "3 placed, 5 GPUs left");
    // The heads as the store has them now, and run 3 again (read before its claim): not placed twice.
    step = steps.next([all.heads[2], ...all.heads.slice(3)]);
    assert.equal(step.done, true, "the fleet is full: no third window");
    const decision = step.done ? step.value : assert.fail("not done");
    assert.equal(decision.placements.length, 8, "the same 8 fit as in one window");
    assert.equal(new Set(decision.placements.map((p) => p.run.id)).size, 8, "run 3 was not placed twice");
    assert.equal(decision.reasons.length, 2, "the two that wait get a reason");
    const gpus = decision.placements.flatMap((p) => p.nodes.flatMap((n) => n.gpuIndices.map((g) => `${n.deviceId}/${g}`)));
    assert.equal(new Set(gpus).size, gpus.length, "no GPU given twice across the windows");
  });

  test("decided on an index handed in, the same as on its own, with every placement taken from that index", () => {
    const all = input();
    const { devices, live, reservations } = all.snapshot;
    const index = new CandidateIndex(scopeCandidates(toCandidates(devices, live), reservations, null));
    const own = run(decideInSteps(input(), 1_000)).value;
    const handed = run(decideInSteps({ ...all, index }, 1_000)).value;
    const placed = (d: typeof own) =>
      d.placements.map((p) => `${p.run.id}:${p.nodes.map((n) => `${n.deviceId}/${n.gpuIndices}`)}`);
    assert.deepEqual(placed(handed), placed(own));
    assert.equal(index.hasRoomForGpuJobs(), false, "the 8 placements took every GPU of the index handed in");
    assert.equal(all.snapshot.live.length, 0, "the snapshot's parts are not changed");
  });
});
