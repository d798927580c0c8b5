import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FedmlError, JobEnv } from "@fedml/core";
import { checkExplicitDevices, type ExplicitDeviceRow } from "../src/federate/explicit.js";
import { federatedCommand, federatedEnv } from "../src/federate/env.js";
import { numEdgesOf } from "../src/federate/num-edges.js";
import { pickFederatedDevices } from "../src/federate/pick.js";
import { assertOnPlatform, platformFilter, platformOfJob } from "../src/runs/platform.js";
import type { CandidateDevice, JobNeeds } from "../src/scheduler/matcher.js";

const needs: JobNeeds = { minimumNumGpus: 0, resourceType: null, deviceType: "GPU", maximumCostPerHour: 0, resourceId: null };
const device = (id: number, freeSlots = 1): CandidateDevice => ({
  deviceId: String(id),
  name: `d${id}`,
  gpus: [],
  freeGpuIndices: [],
  maxJobs: 1,
  freeSlots,
  pricePerGpuHour: 0,
});
const row = (id: number, over: Partial<ExplicitDeviceRow> = {}): ExplicitDeviceRow => ({
  id,
  name: `d${id}`,
  owner_id: 1,
  shared: 0,
  removed: 0,
  status: "IDLE",
  last_seen_at: 1,
  ...over,
});

describe("pickFederatedDevices", () => {
  test("without num_edges: a server and every device that fits, each once", () => {
    const pick = pickFederatedDevices(needs, [device(1), device(2), device(3, 0), device(4)], null);
    assert.equal(pick.kind, "placed");
    if (pick.kind !== "placed") return;
    assert.equal(pick.server.deviceId, "1");
    assert.deepEqual(
      pick.edges.map((e) => e.deviceId),
      ["2", "4"],
    );
  });

  test("num_edges caps the edges; too few free devices is no_resources with the count", () => {
    const pick = pickFederatedDevices(needs, [device(1), device(2), device(3)], 1);
    assert.equal(pick.kind, "placed");
    if (pick.kind === "placed") assert.equal(pick.edges.length, 1);
    const short = pickFederatedDevices(needs, [device(1), device(2)], 3);
    assert.equal(short.kind, "no_resources");
    assert.match(short.reason, /needs a server and 3 edges on distinct devices, and only 2 devices fit now/);
  });

  test("each node gets one device that holds the whole job, even where a split would be cheaper", () => {
    const gpuDevice = (id: number, count: number, price: number): CandidateDevice => ({
      ...device(id),
      gpus: Array.from({ length: count }, (_, index) => ({ index, name: "NVIDIA A100-SXM4-80GB", memoryMiB: 81920 })),
      freeGpuIndices: Array.from({ length: count }, (_, index) => index),
      pricePerGpuHour: price,
    });
    const fleet = [gpuDevice(1, 2, 1), gpuDevice(2, 2, 1), gpuDevice(3, 4, 3), gpuDevice(4, 4, 3)];
    const fourGpus: JobNeeds = { ...needs, minimumNumGpus: 4, maximumCostPerHour: 100 };
    const pick = pickFederatedDevices(fourGpus, fleet, 1);
    assert.equal(pick.kind, "placed");
    if (pick.kind !== "placed") return;
    for (const node of [pick.server, ...pick.edges]) {
      assert.equal(node.nodes.length, 1);
      assert.equal(node.gpuIndices.length, 4);
    }
    assert.deepEqual([pick.server.deviceId, ...pick.edges.map((e) => e.deviceId)], ["3", "4"]);
    const none = pickFederatedDevices({ ...fourGpus, minimumNumGpus: 8 }, fleet, 1);
    assert.equal(none.kind, "no_resources");
  });

  test("one device is never enough, even without num_edges", () => {
    const pick = pickFederatedDevices(needs, [device(1)], null);
    assert.equal(pick.kind, "no_resources");
  });
});

describe("checkExplicitDevices", () => {
  const base = {
    callerId: 1,
    deviceServer: "1",
    deviceEdges: ["2"],
    devices: [row(1), row(2)],
    candidates: [device(1), device(2)],
    needs,
    isOnline: () => true,
  };
  const refused = (over: Partial<typeof base>, code: number, message: RegExp) =>
    assert.throws(
      () => checkExplicitDevices({ ...base, ...over }),
      (err: unknown) => err instanceof FedmlError && err.resultCode === code && message.test(err.message),
    );

  test("the user's devices become server and edges", () => {
    const picked = checkExplicitDevices(base);
    assert.equal(picked.server.deviceId, "1");
    assert.deepEqual(
      picked.edges.map((e) => e.deviceId),
      ["2"],
    );
  });

  test("each refusal has its code and names the device", () => {
    refused({ deviceEdges: ["7"] }, 3, /^edge device 7 does not exist$/);
    refused({ devices: [row(1), row(2, { removed: 1 })] }, 3, /^edge device 2 does not exist$/);
    refused({ devices: [row(1), row(2, { owner_id: 9 })] }, 3, /^edge device 2 \(d2\) is not yours and not shared/);
    refused({ devices: [row(1, { status: "OFFLINE" }), row(2)] }, 8, /^server device 1 \(d1\) is offline/);
    refused({ candidates: [device(1), device(2, 0)] }, 30, /^edge device 2 \(d2\) is busy/);
    refused({ deviceEdges: ["1"] }, 3, /named twice/);
    refused({ deviceEdges: [] }, 3, /device_edges is empty/);
  });

  test("a shared device of someone else may be used", () => {
    const picked = checkExplicitDevices({ ...base, devices: [row(1), row(2, { owner_id: 9, shared: 1 })] });
    assert.equal(picked.edges[0].deviceId, "2");
  });
});

describe("federated env and commands", () => {
  const base = { [JobEnv.NODE_0_ADDR]: "10.0.0.5", [JobEnv.NODE_0_PORT]: "40007", [JobEnv.CLIENT_RANK]: "1" };
  test("server is rank 0, edges 1..N; everyone gets the FL server's host:port and the edge count", () => {
    assert.deepEqual(federatedEnv(base, 0, 4), {
      ...base,
      [JobEnv.CLIENT_RANK]: "0",
      [JobEnv.ROLE]: "server",
      [JobEnv.NUM_EDGES]: "3",
      [JobEnv.FL_SERVER_ADDR]: "10.0.0.5:40007",
    });
    assert.equal(federatedEnv(base, 2, 4)[JobEnv.ROLE], "edge");
    assert.equal(federatedEnv({ ...base, [JobEnv.NODE_0_ADDR]: "fd00::1" }, 1, 2)[JobEnv.FL_SERVER_ADDR], "[fd00::1]:40007");
  });
  test("rank 0 runs server_job, the others job", () => {
    const spec = { job: { posix: "edge", windows: null }, serverJob: { posix: "server", windows: null } };
    assert.equal(federatedCommand(spec, 0)?.posix, "server");
    assert.equal(federatedCommand(spec, 3)?.posix, "edge");
  });
  test("computing.num_edges must be a whole number >= 1", () => {
    const spec = (v: unknown) => ({ computing: { extra: { num_edges: v } } }) as never;
    assert.equal(numEdgesOf(spec(undefined)), null);
    assert.equal(numEdgesOf(spec(3)), 3);
    assert.equal(numEdgesOf(spec("2")), 2);
    assert.throws(() => numEdgesOf(spec(0)), /num_edges must be a whole number >= 1/);
    assert.throws(() => numEdgesOf(spec("many")), /num_edges/);
  });
});

describe("platforms", () => {
  test("federate jobs are octopus (by subtype), every other job falcon", () => {
    assert.equal(platformOfJob({ jobType: "federate", jobSubtype: null }), "octopus");
    assert.equal(platformOfJob({ jobType: "federate", jobSubtype: "cross_silo" }), "octopus");
    assert.equal(platformOfJob({ jobType: "federate", jobSubtype: "simulation" }), "parrot");
    assert.equal(platformOfJob({ jobType: "train", jobSubtype: null }), "falcon");
    assert.equal(platformOfJob({ jobType: "serve", jobSubtype: null }), "falcon");
  });
  test("a filter: absent means all, launch is falcon, unknown names fall back to falcon", () => {
    assert.equal(platformFilter(undefined), null);
    assert.equal(platformFilter("launch"), "falcon");
    assert.equal(platformFilter("Octopus"), "octopus");
    assert.equal(platformFilter("nope"), "falcon");
    assert.doesNotThrow(() => assertOnPlatform({ id: 1, platform: "octopus" }, undefined));
    assert.throws(() => assertOnPlatform({ id: 1, platform: "octopus" }, "falcon"), /run 1 not found on platform falcon/);
  });
});
