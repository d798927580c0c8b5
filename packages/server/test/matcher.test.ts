import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type CandidateDevice, type JobNeeds, matchJob } from "../src/scheduler/matcher.js";

const needs = (over: Partial<JobNeeds> = {}): JobNeeds => ({
  minimumNumGpus: 1,
  resourceType: null,
  deviceType: "GPU",
  maximumCostPerHour: 100,
  resourceId: null,
  ...over,
});

const device = (id: string, over: Partial<CandidateDevice> = {}): CandidateDevice => {
  const gpus = over.gpus ?? [
    { index: 0, name: "NVIDIA A100-SXM4-80GB" },
    { index: 1, name: "NVIDIA A100-SXM4-80GB" },
  ];
  return {
    deviceId: id,
    name: `dev-${id}`,
    gpus,
    freeGpuIndices: gpus.map((g) => g.index),
    maxJobs: 4,
    freeSlots: 4,
    pricePerGpuHour: 0,
    ...over,
  };
};

describe("matchJob", () => {
  test("places on a free device with the lowest free GPU indices", () => {
    const r = matchJob(needs({ minimumNumGpus: 1 }), [device("1", { freeGpuIndices: [1] })]);
    assert.deepEqual(r, {
      kind: "placed",
      nodes: [{ deviceId: "1", gpuIndices: [1], pricePerGpuHour: 0 }],
      deviceId: "1",
      gpuIndices: [1],
      pricePerHour: 0,
    });
  });

  test("cheapest total price wins, then most free slots, then lowest id", () => {
    const devices = [
      device("1", { pricePerGpuHour: 2_000_000 }),
      device("2", { pricePerGpuHour: 1_000_000, freeSlots: 1 }),
      device("3", { pricePerGpuHour: 1_000_000, freeSlots: 3 }),
      device("4", { pricePerGpuHour: 1_000_000, freeSlots: 3 }),
    ];
    const r = matchJob(needs({ minimumNumGpus: 2 }), devices);
    assert.equal(r.kind, "placed");
    assert.equal(r.kind === "placed" && r.deviceId, "3");
    assert.equal(r.kind === "placed" && r.pricePerHour, 2_000_000);
  });

  test("zero-GPU jobs need only a free job slot and get no GPUs", () => {
    const r = matchJob(needs({ minimumNumGpus: 0 }), [device("1", { gpus: [], freeGpuIndices: [] })]);
    assert.equal(r.kind, "placed");
    assert.deepEqual(r.kind === "placed" && r.nodes, [{ deviceId: "1", gpuIndices: [], pricePerGpuHour: 0 }]);
    const full = matchJob(needs({ minimumNumGpus: 0 }), [device("1", { gpus: [], freeGpuIndices: [], freeSlots: 0 })]);
    assert.equal(full.kind, "queued");
    assert.match(full.kind === "queued" ? full.reason : "", /job slot/);
  });

  test("CPU jobs ignore GPUs even when they ask for some", () => {
    const r = matchJob(needs({ deviceType: "CPU", minimumNumGpus: 4 }), [device("1", { gpus: [], freeGpuIndices: [] })]);
    assert.equal(r.kind, "placed");
  });

  test("queued when a device could fit once busy GPUs free up", () => {
    const r = matchJob(needs({ minimumNumGpus: 2 }), [device("1", { freeGpuIndices: [0] })]);
    assert.equal(r.kind, "queued");
    assert.match(r.kind === "queued" ? r.reason : "", /needs 2 x GPU under \$100\.00\/h; 1 free now, the rest are busy/);
  });

  test("no_resources when all devices together have too few GPUs, saying the most there is", () => {
    const r = matchJob(needs({ minimumNumGpus: 8 }), [device("1")]);
    assert.equal(r.kind, "no_resources");
    assert.match(
      r.kind === "no_resources" ? r.reason : "",
      /fit 8 x GPU: 1 device with 2 such GPUs in all, the most any has is 2 \(dev-1\)/,
    );
  });

  test("no_resources with no candidates at all", () => {
    const r = matchJob(needs(), []);
    assert.equal(r.kind, "no_resources");
  });

  test("resource type filters GPUs by normalised model name", () => {
    const mixed = device("1", {
      gpus: [
        { index: 0, name: "NVIDIA H100 80GB HBM3" },
        { index: 1, name: "NVIDIA A100-SXM4-80GB" },
      ],
    });
    const a100 = matchJob(needs({ resourceType: "A100-80GB-SXM" }), [mixed]);
    assert.deepEqual(a100.kind === "placed" && a100.gpuIndices, [1]);
    const h100 = matchJob(needs({ resourceType: "h100" }), [mixed]);
    assert.deepEqual(h100.kind === "placed" && h100.gpuIndices, [0]);
    const two = matchJob(needs({ resourceType: "A100", minimumNumGpus: 2 }), [mixed]);
    assert.equal(two.kind, "no_resources");
    assert.match(two.kind === "no_resources" ? two.reason : "", /2 x A100/);
  });

  test("blocked when every fitting device is above the price cap", () => {
    const r = matchJob(needs({ maximumCostPerHour: 1, minimumNumGpus: 2 }), [device("1", { pricePerGpuHour: 750_000 })]);
    assert.equal(r.kind, "blocked");
    assert.match(r.kind === "blocked" ? r.reason : "", /\$1\.00\/hour.*cheapest: \$1\.50\/hour on dev-1/);
  });

  test("a $0 cap allows only free devices, and a free device is always under the cap", () => {
    const paid = device("1", { pricePerGpuHour: 100_000 });
    const blocked = matchJob(needs({ maximumCostPerHour: 0 }), [paid]);
    assert.equal(blocked.kind, "blocked");
    assert.match(blocked.kind === "blocked" ? blocked.reason : "", /no paid resources/);
    const placed = matchJob(needs({ maximumCostPerHour: 0 }), [paid, device("2")]);
    assert.equal(placed.kind === "placed" && placed.deviceId, "2");
  });

  test("a price cap below a paid device but a busy free device queues rather than blocks", () => {
    const r = matchJob(needs({ maximumCostPerHour: 0 }), [
      device("1", { pricePerGpuHour: 3_000_000 }),
      device("2", { freeGpuIndices: [] }),
    ]);
    assert.equal(r.kind, "queued");
  });

  test("resourceId pins the job to that device", () => {
    const devices = [device("1"), device("2", { pricePerGpuHour: 5_000_000 })];
    const pinned = matchJob(needs({ resourceId: "2" }), devices);
    assert.equal(pinned.kind === "placed" && pinned.deviceId, "2");
    const unknown = matchJob(needs({ resourceId: "9" }), devices);
    assert.equal(unknown.kind, "no_resources");
    assert.match(unknown.kind === "no_resources" ? unknown.reason : "", /device 9/);
  });

  test("a device with max_jobs busy queues even if GPUs are free", () => {
    const r = matchJob(needs(), [device("1", { freeSlots: 0 })]);
    assert.equal(r.kind, "queued");
  });
});

describe("container jobs", () => {
  test("are placed only on devices with a container runtime, and say so when none has one", () => {
    const placed = matchJob(needs({ container: true }), [device("1"), device("2", { containerRuntime: "podman" })]);
    assert.equal(placed.kind, "placed");
    assert.equal(placed.kind === "placed" && placed.deviceId, "2");
    const none = matchJob(needs({ container: true }), [device("1"), device("3")]);
    assert.deepEqual(none, {
      kind: "no_resources",
      reason: "the job runs in a container (docker: image) and none of the 2 devices you may use has docker or podman",
    });
  });

  test("queue behind a busy runtime device with a waiting reason that says why the others do not count", () => {
    const busy = device("2", { containerRuntime: "docker", freeGpuIndices: [], freeSlots: 0 });
    const r = matchJob(needs({ container: true }), [device("1"), busy]);
    assert.equal(r.kind, "queued");
    assert.match(r.kind === "queued" ? r.reason : "", /\(a container job: only devices with docker or podman count\)$/);
  });
});
