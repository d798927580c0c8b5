// Property-based: the indexed matcher (one index per queue pass, capacity taken as runs are
// placed) gives exactly the plain matcher's answers, words included, run after run.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { CandidateIndex } from "../src/scheduler/candidate-index.js";
import { matchIndexed } from "../src/scheduler/indexed-match.js";
import { type CandidateDevice, type JobNeeds, matchJob } from "../src/scheduler/matcher.js";
import { toFleet } from "./support/fleet.js";

const MODELS = ["NVIDIA A100-SXM4-80GB", "NVIDIA H100 80GB HBM3", "NVIDIA GeForce RTX 4090", "NVIDIA A100-PCIE-40GB"];
const WANTED = [null, "A100-80G", "H100", "RTX-4090", "A100", "A100 PCIe"];
const PROVIDERS = ["lambda", "runpod", "home-lab", undefined];

const fleetArb = fc
  .array(
    fc.record({
      gpuCount: fc.constantFrom(0, 1, 2, 4, 8),
      models: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
      busy: fc.array(fc.constantFrom(false, false, false, true), { minLength: 8, maxLength: 8 }),
      // Few prices, so that ties (and the tie-breaks) are common.
      cents: fc.constantFrom(0, 100, 100, 100, 150, 240),
      maxJobs: fc.constantFrom(0, 1, 2, 3, 8),
      usedSlots: fc.constantFrom(0, 0, 0, 1, 2),
      provider: fc.constantFrom(...PROVIDERS),
      owner: fc.constantFrom("1", "2", "3", undefined),
      shared: fc.constantFrom(true, true, false, undefined),
    }),
    { minLength: 0, maxLength: 14 },
  )
  .map((specs) => toFleet(specs, MODELS));

const needsArb = fc.record({
  minimumNumGpus: fc.constantFrom(0, 1, 1, 2, 3, 4, 5, 8, 9, 16),
  resourceType: fc.constantFrom(...WANTED),
  deviceType: fc.constantFrom("GPU", "GPU", "GPU", "CPU"),
  maximumCostPerHour: fc.constantFrom(0, 1, 2.4, 5, 100),
  resourceId: fc.constantFrom(null, null, null, null, "1", "3", "99"),
  // "4" and "5" own no device: requesters like them share one view of the fleet.
  requesterId: fc.constantFrom("1", "2", "4", "5", null),
  allowCrossProvider: fc.boolean(),
  credit: fc.constantFrom(undefined, null, { cardBound: false, balanceMicros: 0 }, { cardBound: true, balanceMicros: 3_000_000 }),
}) as fc.Arbitrary<JobNeeds>;

/** What a placement leaves free, as the plain matcher's caller would apply it. */
function takeFromList(list: CandidateDevice[], nodes: { deviceId: string; gpuIndices: number[] }[]): void {
  for (const node of nodes) {
    const d = list.find((x) => x.deviceId === node.deviceId);
    if (!d) continue;
    d.freeGpuIndices = d.freeGpuIndices.filter((i) => !node.gpuIndices.includes(i));
    d.freeSlots = Math.max(0, d.freeSlots - 1);
  }
}

describe("candidate index (property-based)", () => {
  test("a queue pass over the index answers as the plain matcher does, run after run", () => {
    // A pass hands in one needs object per owner and kind of run, again and again: the index
    // keeps what it works out for such an object until a placement takes capacity.
    const jobsArb = fc
      .tuple(fc.array(needsArb, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { minLength: 1, maxLength: 40 }))
      .map(([kinds, picks]) => picks.map((k) => kinds[k % kinds.length]));
    fc.assert(
      fc.property(fleetArb, jobsArb, (fleet, jobs) => {
        const plain = fleet.map((d) => ({ ...d, freeGpuIndices: [...d.freeGpuIndices] }));
        const before = structuredClone(fleet);
        const index = new CandidateIndex(fleet);
        for (const needs of jobs) {
          const want = matchJob(needs, plain);
          const got = matchIndexed(needs, index);
          assert.deepEqual(got, want);
          if (want.kind === "placed") {
            takeFromList(plain, want.nodes);
            index.take(want.nodes);
          }
        }
        // The index works on its own copies.
        assert.deepEqual(fleet, before);
        assert.deepEqual(index.candidates, plain);
      }),
      { numRuns: 2000 },
    );
  });

  test("capacity given back (release, replace) is matched as a fresh index over the same fleet would", () => {
    // Steps: a job (placed ones are taken), a placement given back, or a device's capacity
    // re-read (a part ended or started elsewhere: more or less free than the index had).
    const stepArb = fc.oneof(
      { weight: 3, arbitrary: needsArb.map((needs) => ({ kind: "job" as const, needs })) },
      { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: "release" as const, pick })) },
      {
        weight: 1,
        arbitrary: fc
          .record({ pick: fc.nat(), free: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), slots: fc.nat({ max: 3 }) })
          .map((r) => ({ kind: "replace" as const, ...r })),
      },
    );
    fc.assert(
      fc.property(fleetArb, fc.array(stepArb, { minLength: 1, maxLength: 40 }), (fleet, steps) => {
        const plain = fleet.map((d) => ({ ...d, freeGpuIndices: [...d.freeGpuIndices] }));
        const index = new CandidateIndex(fleet);
        const held: { deviceId: string; gpuIndices: number[] }[][] = [];
        for (const step of steps) {
          if (step.kind === "job") {
            const want = matchJob(step.needs, plain);
            assert.deepEqual(matchIndexed(step.needs, index), want);
            if (want.kind === "placed") {
              takeFromList(plain, want.nodes);
              index.take(want.nodes);
              held.push(want.nodes);
            }
          } else if (step.kind === "release") {
            if (held.length === 0) continue;
            const [nodes] = held.splice(step.pick % held.length, 1);
            for (const node of nodes) {
              const d = plain.find((x) => x.deviceId === node.deviceId);
              if (!d) continue;
              d.freeGpuIndices = d.gpus
                .map((g) => g.index)
                .filter((i) => d.freeGpuIndices.includes(i) || node.gpuIndices.includes(i));
              d.freeSlots = Math.min(d.maxJobs, d.freeSlots + 1);
            }
            index.release(nodes);
          } else {
            if (plain.length === 0) continue;
            const d = plain[step.pick % plain.length];
            d.freeGpuIndices = d.gpus.filter((g) => step.free[g.index]).map((g) => g.index);
            d.freeSlots = Math.min(d.maxJobs, step.slots);
            index.replace(d);
          }
        }
        assert.deepEqual(index.candidates, plain);
      }),
      { numRuns: 1000 },
    );
  });

  test("a device given back its GPUs ranks where its price puts it: the cheapest freed device wins", () => {
    const device = (id: string, price: number): CandidateDevice => ({
      deviceId: id,
      name: `d${id}`,
      gpus: [{ index: 0, name: "H100" }],
      freeGpuIndices: [0],
      maxJobs: 1,
      freeSlots: 1,
      pricePerGpuHour: price,
    });
    const index = new CandidateIndex([device("1", 1), device("2", 2), device("3", 3)]);
    const needs = { minimumNumGpus: 1, resourceType: null, deviceType: "GPU", maximumCostPerHour: 5, resourceId: null };
    const place = () => {
      const placed = matchIndexed(needs, index);
      if (placed.kind !== "placed") return null;
      index.take(placed.nodes);
      return placed.nodes.map((n) => n.deviceId).join();
    };
    assert.deepEqual([place(), place(), place(), place()], ["1", "2", "3", null]);
    // Freed in the opposite order of their prices: each time the cheapest free one is taken.
    index.release([{ deviceId: "3", gpuIndices: [0] }]);
    index.replace({ deviceId: "2", freeGpuIndices: [0], freeSlots: 1 });
    assert.deepEqual([place(), place(), place()], ["2", "3", null]);
    // Given back, taken, given back again: its heap entries of both times are there, and the
    // older one must not count it twice in one allocation.
    index.release([{ deviceId: "1", gpuIndices: [0] }]);
    assert.equal(place(), "1");
    index.replace({ deviceId: "1", freeGpuIndices: [0], freeSlots: 1 });
    assert.equal(matchIndexed({ ...needs, minimumNumGpus: 2 }, index).kind, "queued");
    assert.deepEqual([place(), place()], ["1", null]);
  });

  test("the index leaves the candidates it was given unchanged", () => {
    const fleet: CandidateDevice[] = [
      {
        deviceId: "1",
        name: "a",
        gpus: [{ index: 0, name: "H100" }],
        freeGpuIndices: [0],
        maxJobs: 1,
        freeSlots: 1,
        pricePerGpuHour: 1,
      },
    ];
    const index = new CandidateIndex(fleet);
    const placed = matchIndexed(
      { minimumNumGpus: 1, resourceType: null, deviceType: "GPU", maximumCostPerHour: 5, resourceId: null },
      index,
    );
    assert.equal(placed.kind, "placed");
    if (placed.kind === "placed") index.take(placed.nodes);
    assert.deepEqual(fleet[0].freeGpuIndices, [0]);
    assert.equal(fleet[0].freeSlots, 1);
    const again = matchIndexed(
      { minimumNumGpus: 1, resourceType: null, deviceType: "GPU", maximumCostPerHour: 5, resourceId: null },
      index,
    );
    assert.equal(again.kind, "queued");
  });
});
