import assert from "node:assert/strict";
import { test } from "node:test";
import { computeJobEnv } from "../src/runs/job-env.js";

test("computeJobEnv gives FedML's and torchrun's variables, spec env first so ours win", () => {
  const env = computeJobEnv({
    runId: 12345,
    runName: "r",
    projectName: "p",
    part: { deviceId: 7, nodeIndex: 1, gpuIndices: [2, 3] },
    parts: [
      { deviceId: 5, nodeIndex: 0, gpuIndices: [0] },
      { deviceId: 7, nodeIndex: 1, gpuIndices: [2, 3] },
    ],
    addressOf: (id) => (id === 5 ? "10.0.0.5" : "10.0.0.7"),
    extraEnv: { FEDML_ENV_X: "1", CUDA_VISIBLE_DEVICES: "bogus" },
  });
  assert.equal(env.FEDML_CURRENT_RUN_ID, "12345");
  assert.equal(env.FEDML_CURRENT_EDGE_ID, "7");
  assert.equal(env.FEDML_CLIENT_RANK, "2");
  assert.equal(env.FEDML_NUM_NODES, "2");
  assert.equal(env.FEDML_NODE_0_ADDR, "10.0.0.5");
  assert.equal(env.FEDML_NODE_0_PORT, String(40000 + 2345));
  assert.equal(env.MASTER_ADDR, "10.0.0.5");
  assert.equal(env.MASTER_PORT, env.FEDML_NODE_0_PORT);
  assert.equal(env.CUDA_VISIBLE_DEVICES, "2,3");
  assert.equal(env.NODE_RANK, "1");
  assert.equal(env.NNODES, "2");
  assert.equal(env.NPROC_PER_NODE, "2");
  assert.equal(env.WORLD_SIZE, "3");
  assert.equal(env.FEDML_RUN_NAME, "r");
  assert.equal(env.FEDML_PROJECT_NAME, "p");
  assert.equal(env.FEDML_ENV_X, "1");
});

test("a CPU-only single node gets an empty CUDA_VISIBLE_DEVICES and one process", () => {
  const part = { deviceId: 1, nodeIndex: 0, gpuIndices: [] };
  const env = computeJobEnv({
    runId: 1,
    runName: "r",
    projectName: "default",
    part,
    parts: [part],
    addressOf: () => "",
    extraEnv: {},
  });
  assert.equal(env.CUDA_VISIBLE_DEVICES, "");
  assert.equal(env.NPROC_PER_NODE, "1");
  assert.equal(env.WORLD_SIZE, "1");
  assert.equal(env.FEDML_NODE_0_ADDR, "127.0.0.1");
});
