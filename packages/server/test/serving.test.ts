// The serving parts that decide without side effects: the autoscaler's target, the load
// balancer's choice, replica statuses and an endpoint's settings from serving_args.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ServingArgs, parseJobYaml } from "@fedml/core";
import { decideReplicas } from "../src/serving/autoscale.js";
import { spreadDevice } from "../src/serving/launch-replica.js";
import type { CandidateDevice } from "../src/scheduler/matcher.js";
import { pickReplica, routableReplicas } from "../src/serving/pick-replica.js";
import { ReplicaLoad } from "../src/serving/replica-load.js";
import { replicaStatus } from "../src/serving/replica-status.js";
import { endpointSettings } from "../src/serving/settings.js";
import type { ReplicaRow } from "../src/store/endpoint-replicas.js";

const base = {
  minReplicas: 1,
  maxReplicas: 5,
  targetInflight: 2 as number | null,
  targetRps: null as number | null,
  desired: 1,
  peakInflight: 0,
  requestsPerSecond: 0,
  busyAt: 0,
  scaleDownDelayMs: 10_000,
  now: 100_000,
};

describe("autoscaler", () => {
  test("scales up at once to ceil(peak / target), capped by max", () => {
    assert.equal(decideReplicas({ ...base, peakInflight: 5 }).desired, 3);
    assert.equal(decideReplicas({ ...base, peakInflight: 50 }).desired, 5);
  });
  test("scales down only after the delay, and never below min", () => {
    const busy = { ...base, desired: 4, peakInflight: 0, busyAt: 95_000 };
    assert.deepEqual(decideReplicas(busy), { desired: 4, busyAt: 95_000 });
    assert.deepEqual(decideReplicas({ ...busy, busyAt: 90_000 }), { desired: 1, busyAt: 100_000 });
    assert.equal(decideReplicas({ ...busy, busyAt: 0, minReplicas: 2 }).desired, 2);
  });
  test("load at the current count restarts the scale-down delay", () => {
    assert.deepEqual(decideReplicas({ ...base, desired: 2, peakInflight: 4, busyAt: 0 }), { desired: 2, busyAt: 100_000 });
  });
  test("on requests per second: ceil(rate / target), the larger need when both targets are set", () => {
    const onRate = { ...base, targetInflight: null, targetRps: 10 };
    assert.equal(decideReplicas({ ...onRate, requestsPerSecond: 25 }).desired, 3);
    assert.equal(decideReplicas({ ...onRate, requestsPerSecond: 500 }).desired, 5);
    // One request in flight at a time, but 35 a second: the in-flight target alone keeps one replica.
    assert.equal(decideReplicas({ ...base, peakInflight: 1, requestsPerSecond: 35 }).desired, 1);
    assert.equal(decideReplicas({ ...base, targetRps: 10, peakInflight: 1, requestsPerSecond: 35 }).desired, 4);
    assert.equal(decideReplicas({ ...base, targetRps: 10, peakInflight: 9, requestsPerSecond: 5 }).desired, 5);
    const quiet = { ...onRate, desired: 3, requestsPerSecond: 4, busyAt: 95_000 };
    assert.equal(decideReplicas(quiet).desired, 3, "down only after the delay");
    assert.equal(decideReplicas({ ...quiet, busyAt: 0 }).desired, 1);
  });
  test("the rate is arrivals per second between samples (monotonic), from the proxy's counts", () => {
    const load = new ReplicaLoad();
    assert.equal(load.takeRate(7, 1_000), 0, "the first sample only starts the count");
    for (let i = 0; i < 30; i++) load.begin(7);
    assert.equal(load.takeRate(7, 1_500), 60);
    for (let i = 0; i < 10; i++) load.end(7, true);
    assert.equal(load.takeRate(7, 2_500), 0, "answers are not arrivals");
    load.begin(7);
    assert.equal(load.takeRate(7, 2_500), 0, "no time passed");
    assert.equal(load.takeRate(8, 3_000), 0);
  });
  test("without a target: zero when idle (min 0), one when a request comes", () => {
    const wake = { ...base, minReplicas: 0, maxReplicas: 1, targetInflight: null, desired: 0 };
    assert.equal(decideReplicas({ ...wake, peakInflight: 1 }).desired, 1);
    assert.equal(decideReplicas({ ...wake, desired: 1, busyAt: 0 }).desired, 0);
    assert.equal(decideReplicas({ ...base, targetInflight: null, minReplicas: 3, maxReplicas: 3, desired: 3 }).desired, 3);
  });
});

let nextId = 1;
function replica(over: Partial<ReplicaRow>): ReplicaRow {
  const id = nextId++;
  return {
    id,
    endpoint_id: 1,
    run_id: id,
    generation: 1,
    device_id: 1,
    port: 1,
    ready: 1,
    created_at: 0,
    ready_at: 1,
    retired_at: null,
    ended_at: null,
    ...over,
  };
}

describe("load balancer", () => {
  test("least outstanding requests first; ties in turn", () => {
    const [a, b, c] = [replica({}), replica({}), replica({})];
    const inflight = new Map([
      [a.run_id, 2],
      [b.run_id, 0],
      [c.run_id, 1],
    ]);
    assert.equal(
      pickReplica([a, b, c], (id) => inflight.get(id) ?? 0, 0),
      b,
    );
    const idle = () => 0;
    assert.deepEqual(
      [0, 1, 2, 3].map((turn) => pickReplica([a, b, c], idle, turn)),
      [a, b, c, a],
    );
    assert.equal(pickReplica([], idle, 0), undefined);
  });
  test("only ready replicas of the newest generation that has one get requests", () => {
    const old = replica({ generation: 1 });
    const fresh = replica({ generation: 2 });
    const starting = replica({ generation: 3, ready: 0, ready_at: null });
    const unhealthy = replica({ generation: 2, ready: 0 });
    const draining = replica({ generation: 2, retired_at: 5 });
    assert.deepEqual(routableReplicas([old, fresh, starting, unhealthy, draining]), [fresh]);
    assert.deepEqual(routableReplicas([old, starting]), [old]);
    assert.deepEqual(routableReplicas([starting]), []);
  });
  test("replica statuses", () => {
    assert.equal(replicaStatus(replica({ ready: 0, ready_at: null })), "STARTING");
    assert.equal(replicaStatus(replica({})), "READY");
    assert.equal(replicaStatus(replica({ ready: 0 })), "UNHEALTHY");
    assert.equal(replicaStatus(replica({ retired_at: 3 })), "DRAINING");
    assert.equal(replicaStatus(replica({ ended_at: 4 })), "ENDED");
  });
});

describe("endpoint settings", () => {
  const args = (over: Partial<ServingArgs>): ServingArgs => ({
    modelName: null,
    modelVersion: null,
    modelStorageUrl: null,
    endpointName: null,
    endpointId: null,
    minReplicas: null,
    maxReplicas: null,
    targetInflightRequests: null,
    targetRequestsPerSecond: null,
    scaleDownDelaySeconds: null,
    readinessProbePath: null,
    readinessProbeIntervalSeconds: null,
    ...over,
  });
  test("defaults: one replica, probe GET / every second, 60 s scale-down delay", () => {
    assert.deepEqual(endpointSettings(null), {
      minReplicas: 1,
      maxReplicas: 1,
      targetInflight: null,
      targetRps: null,
      scaleDownDelayMs: 60_000,
      probePath: "/",
      probeIntervalMs: 1_000,
    });
  });
  test("bounds and probe from serving_args", () => {
    const s = endpointSettings(args({ minReplicas: 0, maxReplicas: 4, targetInflightRequests: 3, readinessProbePath: "/h" }));
    assert.equal(s.minReplicas, 0);
    assert.equal(s.maxReplicas, 4);
    assert.equal(s.targetInflight, 3);
    assert.equal(s.probePath, "/h");
    assert.equal(endpointSettings(args({ targetRequestsPerSecond: 20 })).targetRps, 20);
    assert.equal(endpointSettings(args({ maxReplicas: 3 })).minReplicas, 1);
    assert.equal(endpointSettings(args({ minReplicas: 2 })).maxReplicas, 2);
  });
});

describe("where a new replica goes", () => {
  const spec = parseJobYaml("job: python3 serve.py\njob_type: serve\n");
  const box = (id: string, provider: string, pricePerGpuHour = 0): CandidateDevice => ({
    deviceId: id,
    name: `box-${id}`,
    gpus: [],
    freeGpuIndices: [],
    maxJobs: 4,
    freeSlots: 4,
    pricePerGpuHour,
    provider,
  });
  const fleet = [box("1", "aws"), box("2", "aws"), box("3", "gcp"), box("4", "gcp")];
  const spread = (devices: string[]) => ({
    devices: new Set(devices),
    providers: new Set(devices.map((d) => fleet.find((b) => b.deviceId === d)?.provider ?? "")),
  });
  test("a device of a provider that runs no replica yet, before another device of the same provider", () => {
    assert.equal(spreadDevice(spec, 1, fleet, spread(["1"])), "3");
    assert.equal(spreadDevice(spec, 1, fleet, spread(["3"])), "1");
  });
  test("another device of a used provider when every provider runs one; none when every device does", () => {
    assert.equal(spreadDevice(spec, 1, fleet, spread(["1", "3"])), "2");
    assert.equal(spreadDevice(spec, 1, fleet, spread(["1", "2", "3", "4"])), null);
  });
});
