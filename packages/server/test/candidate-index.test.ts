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
