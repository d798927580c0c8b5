import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pickCluster } from "../src/clusters/lifecycle.js";
import { scopeCandidates } from "../src/clusters/scope.js";
import { clusterStatusOf, idleStopAt } from "../src/clusters/status.js";
import { matchJob } from "../src/scheduler/matcher.js";
import type { CandidateDevice } from "../src/scheduler/matcher.js";
import type { ClusterRow } from "../src/store/clusters.js";

const device = (id: number, gpus = 2): CandidateDevice => ({
  deviceId: String(id),
  name: `box-${id}`,
  gpus: Array.from({ length: gpus }, (_, index) => ({ index, name: "NVIDIA A100-SXM4-80GB" })),
  freeGpuIndices: Array.from({ length: gpus }, (_, i) => i),
  maxJobs: 4,
  freeSlots: 4,
  pricePerGpuHour: 0,
});
const needs = (gpus: number) => ({
  minimumNumGpus: gpus,
  resourceType: "A100-80GB",
  deviceType: "GPU",
  maximumCostPerHour: 0,
  resourceId: null,
});

describe("cluster scope on the matcher's candidates", () => {
  const candidates = [device(1), device(2), device(3)];
  const reservations = [
    { clusterId: 10, deviceId: 1 },
    { clusterId: 11, deviceId: 2 },
  ];

  test("a cluster's run sees only that cluster's devices", () => {
    assert.deepEqual(
      scopeCandidates(candidates, reservations, 10).map((c) => c.deviceId),
      ["1"],
    );
    assert.deepEqual(scopeCandidates(candidates, reservations, 12), []);
  });

  test("any other run sees reserved devices with nothing free on them", () => {
    const scoped = scopeCandidates(candidates, reservations, null);
    assert.deepEqual(
      scoped.map((c) => [c.deviceId, c.freeSlots, c.freeGpuIndices.length]),
      [
        ["1", 0, 0],
        ["2", 0, 0],
        ["3", 4, 2],
      ],
    );
    const placed = matchJob(needs(1), scoped);
    assert.equal(placed.kind, "placed");
    assert.equal(placed.kind === "placed" && placed.deviceId, "3");
  });

  test("a run kept off reserved devices queues for them rather than being told nothing fits", () => {
    const verdict = matchJob(needs(2), scopeCandidates([device(1)], reservations, null));
    assert.equal(verdict.kind, "queued");
  });
});

describe("cluster status and idle stop", () => {
  test("status follows the state and whether a run is live", () => {
    assert.equal(clusterStatusOf("active", 0), "IDLE");
    assert.equal(clusterStatusOf("active", 2), "RUNNING");
    assert.equal(clusterStatusOf("stopped", 0), "STOPPED");
    assert.equal(clusterStatusOf("terminated", 0), "TERMINATED");
  });

  test("the idle clock starts at the later of its start and the last run's end; 0 means never", () => {
    assert.equal(idleStopAt(15, 1_000, null), 1_000 + 15 * 60_000);
    assert.equal(idleStopAt(1, 1_000, 500_000), 500_000 + 60_000);
    assert.equal(idleStopAt(1, 900_000, 500_000), 900_000 + 60_000);
    assert.equal(idleStopAt(0.02, 0, 0), 1_200);
    assert.equal(idleStopAt(0, 1_000, null), null);
  });
});

describe("picking a cluster by name", () => {
  const row = (id: number, name: string, state: string) => ({ id, name, state }) as ClusterRow;
  test("the live one wins over killed ones; else the latest killed one", () => {
    const rows = [row(1, "a", "terminated"), row(2, "a", "stopped"), row(3, "a", "terminated"), row(4, "b", "terminated")];
    assert.equal(pickCluster(rows, "a")?.id, 2);
    assert.equal(pickCluster(rows, "b")?.id, 4);
    assert.equal(pickCluster(rows, "c"), undefined);
  });
});
