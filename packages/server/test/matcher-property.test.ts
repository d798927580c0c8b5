// Property-based: the matcher against a brute force that tries every way to take GPUs from
// every device, on thousands of random fleets and jobs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { toMicros } from "@fedml/core";
import fc from "fast-check";
import { gpuMatchesType } from "../src/scheduler/gpu-names.js";
import { type CandidateDevice, type JobNeeds, type MatchResult, matchJob } from "../src/scheduler/matcher.js";
import { toFleet } from "./support/fleet.js";

const MODELS = ["NVIDIA A100-SXM4-80GB", "NVIDIA H100 80GB HBM3", "NVIDIA GeForce RTX 4090"];
const WANTED = [null, "A100-80G", "H100", "RTX-4090"];
const PROVIDERS = ["lambda", "runpod", "home-lab"];

const deviceArb = fc
  .record({
    gpuCount: fc.constantFrom(0, 1, 2, 2, 4, 4),
    models: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
    busy: fc.array(fc.constantFrom(false, false, false, true), { minLength: 4, maxLength: 4 }),
    cents: fc.constantFrom(0, 100, 100, 100, 150, 240),
    maxJobs: fc.constantFrom(0, 1, 2, 2, 3, 3),
    usedSlots: fc.constantFrom(0, 0, 0, 1, 2, 3),
    provider: fc.constantFrom(...PROVIDERS),
    owner: fc.constantFrom("1", "2", "3"),
    shared: fc.constantFrom(true, true, false),
  })
  .map((d) => d);

const fleetArb = fc.array(deviceArb, { minLength: 0, maxLength: 5 }).map((specs) => toFleet(specs, MODELS));

const needsArb = fc.record({
  minimumNumGpus: fc.constantFrom(0, 1, 2, 3, 3, 4, 5, 6, 8, 9),
  resourceType: fc.constantFrom(...WANTED),
  deviceType: fc.constantFrom("GPU", "GPU", "GPU", "CPU"),
  maximumCostPerHour: fc.constantFrom(0, 1, 2.4, 5, 100),
  resourceId: fc.constantFrom(null, null, null, "1", "3"),
  requesterId: fc.constantFrom("1", "2"),
  allowCrossProvider: fc.boolean(),
}) as fc.Arbitrary<JobNeeds>;

interface Best {
  cost: number;
  nodes: number;
}

/** Every vector of per-device GPU counts; the cheapest, then fewest devices. */
function bruteForce(needs: JobNeeds, fleet: CandidateDevice[], when: "ever" | "now"): Best | null {
  const n = needs.deviceType === "CPU" ? 0 : needs.minimumNumGpus;
  const type = n > 0 ? needs.resourceType : null;
  const usable = fleet.filter(
    (d) => (!needs.resourceId || d.deviceId === needs.resourceId) && (d.ownerId === needs.requesterId || d.shared === true),
  );
  const items = usable
    .map((d) => {
      const pool = when === "ever" ? d.gpus.map((g) => g.index) : d.freeGpuIndices;
      const matching = pool.filter((i) => !type || gpuMatchesType(d.gpus[i].name, type));
      const slotOk = when === "ever" ? d.maxJobs >= 1 : d.freeSlots >= 1;
      return {
        max: slotOk ? matching.length : -1,
        price: d.ownerId === needs.requesterId ? 0 : d.pricePerGpuHour,
        provider: d.provider,
      };
    })
    .filter((it) => it.max >= 0);
  let best: Best | null = null;
  const consider = (b: Best) => {
    if (!best || b.cost < best.cost - 1e-9 || (Math.abs(b.cost - best.cost) <= 1e-9 && b.nodes < best.nodes)) best = b;
  };
  if (n === 0) return items.length > 0 ? { cost: 0, nodes: 1 } : null;
  const counts = new Array(items.length).fill(0);
  const walk = (i: number, left: number) => {
    if (left === 0) {
      const used = items.filter((_, k) => counts[k] > 0);
      if (!needs.allowCrossProvider && new Set(used.map((u) => u.provider)).size > 1) return;
      consider({ cost: items.reduce((s, it, k) => s + it.price * counts[k], 0), nodes: used.length });
      return;
    }
    if (i === items.length) return;
    for (let c = 0; c <= Math.min(items[i].max, left); c++) {
      counts[i] = c;
      walk(i + 1, left - c);
    }
    counts[i] = 0;
  };
  walk(0, n);
  return best;
}

function expectedKind(needs: JobNeeds, fleet: CandidateDevice[]): { kind: MatchResult["kind"]; best?: Best } {
  const ever = bruteForce(needs, fleet, "ever");
  if (!ever) return { kind: "no_resources" };
  // Prices are whole micro-dollars: exact comparisons, no tolerance.
  const fits = (b: Best) => b.cost === 0 || b.cost <= toMicros(needs.maximumCostPerHour);
  if (!fits(ever)) return { kind: "blocked" };
  const now = bruteForce(needs, fleet, "now");
  if (!now || !fits(now)) return { kind: "queued" };
  return { kind: "placed", best: now };
}

describe("matcher vs brute force (property-based)", () => {
  test("the verdict matches, a placement is a cheapest one with the fewest devices, and it only takes free GPUs", () => {
    fc.assert(
      fc.property(fleetArb, needsArb, (fleet, needs) => {
        const got = matchJob(needs, fleet);
        const want = expectedKind(needs, fleet);
        assert.equal(got.kind, want.kind, `${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
        if (got.kind !== "placed" || !want.best) return;
        const n = needs.deviceType === "CPU" ? 0 : needs.minimumNumGpus;
        assert.equal(got.pricePerHour, want.best.cost, `cost ${got.pricePerHour} vs ${want.best.cost}`);
        assert.equal(got.nodes.length, want.best.nodes);
        assert.equal(new Set(got.nodes.map((x) => x.deviceId)).size, got.nodes.length, "a device appears once");
        assert.equal(
          got.nodes.reduce((s, x) => s + x.gpuIndices.length, 0),
          n,
          "exactly the GPUs asked for",
        );
        let total = 0;
        for (const node of got.nodes) {
          const d = fleet.find((x) => x.deviceId === node.deviceId);
          assert.ok(d && d.freeSlots >= 1, "a device with a free slot");
          assert.ok(d.ownerId === needs.requesterId || d.shared, "a device the requester may use");
          assert.equal(new Set(node.gpuIndices).size, node.gpuIndices.length, "no GPU twice");
          for (const i of node.gpuIndices) assert.ok(d.freeGpuIndices.includes(i), `GPU ${i} of ${d.deviceId} is free`);
          total += node.pricePerGpuHour * node.gpuIndices.length;
        }
        assert.equal(total, got.pricePerHour);
      }),
      { numRuns: 3000 },
    );
  });

  test("placing job after job on one fleet never hands out a GPU twice", () => {
    fc.assert(
      fc.property(fleetArb, fc.array(needsArb, { minLength: 1, maxLength: 12 }), (fleet, jobs) => {
        const state = fleet.map((d) => ({ ...d, freeGpuIndices: [...d.freeGpuIndices] }));
        const held = new Set<string>(
          fleet.flatMap((d) => d.gpus.filter((g) => !d.freeGpuIndices.includes(g.index)).map((g) => `${d.deviceId}:${g.index}`)),
        );
        for (const needs of jobs) {
          const got = matchJob(needs, state);
          if (got.kind !== "placed") continue;
          for (const node of got.nodes) {
            const d = state.find((x) => x.deviceId === node.deviceId)!;
            for (const i of node.gpuIndices) {
              const key = `${d.deviceId}:${i}`;
              assert.ok(!held.has(key), `GPU ${key} handed out twice`);
              held.add(key);
            }
            d.freeGpuIndices = d.freeGpuIndices.filter((i) => !node.gpuIndices.includes(i));
            d.freeSlots -= 1;
          }
        }
      }),
      { numRuns: 1500 },
    );
  });
});
