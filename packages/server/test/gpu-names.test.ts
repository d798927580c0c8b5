import assert from "node:assert/strict";
import { test } from "node:test";
import { gpuMatchesType, normalizeGpuName } from "../src/scheduler/gpu-names.js";

test("normalizeGpuName drops case, separators, vendor words and the GB suffix", () => {
  assert.equal(normalizeGpuName("NVIDIA A100-SXM4-80GB"), "A100SXM480");
  assert.equal(normalizeGpuName("a100_80g"), "A10080");
  assert.equal(normalizeGpuName("NVIDIA GeForce RTX 4090"), "RTX4090");
});

test("gpuMatchesType accepts the ways people write a model", () => {
  assert.ok(gpuMatchesType("NVIDIA A100-SXM4-80GB", "A100-80GB-SXM"));
  assert.ok(gpuMatchesType("NVIDIA A100-SXM4-80GB", "a100"));
  assert.ok(gpuMatchesType("NVIDIA GeForce RTX 4090", "RTX4090"));
  assert.ok(gpuMatchesType("NVIDIA GeForce RTX 4090", "rtx-4090"));
  assert.ok(gpuMatchesType("Tesla T4", "T4"));
  assert.ok(!gpuMatchesType("NVIDIA H100 80GB HBM3", "A100"));
  assert.ok(!gpuMatchesType("NVIDIA A100-PCIE-40GB", "A100-80GB"));
  assert.ok(!gpuMatchesType("NVIDIA GeForce RTX 4090", "RTX 3090"));
});

test("gpuMatchesType answers the same when asked again and past its cache's size", () => {
  const pairs: [string, string, boolean][] = [
    ["NVIDIA A100-SXM4-80GB", "A100-80GB-SXM", true],
    ["NVIDIA H100 80GB HBM3", "A100", false],
    ["NVIDIA GeForce RTX 4090", "rtx-4090", true],
  ];
  for (let round = 0; round < 3; round++) {
    for (const [gpu, type, expected] of pairs) assert.equal(gpuMatchesType(gpu, type), expected);
    // Many distinct names overflow the cache, which then starts again without changing answers.
    for (let i = 0; i < 12_000; i++) assert.equal(gpuMatchesType(`Model ${i}`, "A100"), false);
  }
});

test("the aliases users write for one model all match; a stated form factor must agree", () => {
  for (const gpu of ["A100-80G", "NVIDIA A100-80GB", "NVIDIA A100 80GB PCIe"]) {
    for (const wanted of ["A100-80G", "A100-80GB", "A100 80GB PCIe"])
      assert.ok(gpuMatchesType(gpu, wanted), `${gpu} ~ ${wanted}`);
  }
  assert.ok(!gpuMatchesType("NVIDIA A100-SXM4-80GB", "A100 80GB PCIe"));
  assert.ok(!gpuMatchesType("A100-80G", "A100-40G"));
});
