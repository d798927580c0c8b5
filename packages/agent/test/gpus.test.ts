import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { FedmlError } from "@fedml/core";
import { detectNvidiaGpus, parseNvidiaSmiCsv } from "../src/facts/gpus.js";
import { detectFacts } from "../src/facts/index.js";
import { parseSimulatedGpus } from "../src/facts/simulated-gpus.js";

const fixture = (name: string) => readFileSync(join(import.meta.dirname, "fixtures", name), "utf8");

describe("parseNvidiaSmiCsv", () => {
  test("a 1-GPU RTX 4090 box", () => {
    assert.deepEqual(parseNvidiaSmiCsv(fixture("nvidia-smi-rtx4090.csv")), [
      {
        index: 0,
        name: "NVIDIA GeForce RTX 4090",
        memoryMiB: 24564,
        uuid: "GPU-5c3e4b1a-2f0d-7c9e-8b1a-3d4e5f6a7b8c",
        utilization: 3,
        memoryUsedMiB: 1187,
      },
    ]);
  });

  test("an 8 x A100-SXM4-80GB box, [N/A] fields left out", () => {
    const gpus = parseNvidiaSmiCsv(fixture("nvidia-smi-8xa100-sxm4-80gb.csv"));
    assert.equal(gpus.length, 8);
    assert.deepEqual(
      gpus.map((g) => g.index),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.ok(gpus.every((g) => g.name === "NVIDIA A100-SXM4-80GB" && g.memoryMiB === 81920));
    assert.equal(gpus[0].utilization, 100);
    assert.equal(gpus[0].memoryUsedMiB, 78113);
    assert.equal(gpus[4].utilization, undefined);
    assert.equal(gpus[4].memoryUsedMiB, undefined);
    assert.equal(gpus[4].uuid, "GPU-5d0e2f3a-4b5c-4d6e-9f7a-8b9c0d1e2f34");
  });

  test("an H100 with [Not Supported], trailing whitespace and a blank line", () => {
    assert.deepEqual(parseNvidiaSmiCsv(fixture("nvidia-smi-h100-80gb-hbm3.csv")), [
      {
        index: 0,
        name: "NVIDIA H100 80GB HBM3",
        memoryMiB: 81559,
        uuid: "GPU-9b4c6d7e-8f9a-4b0c-9d1e-2f3a4b5c6d78",
        memoryUsedMiB: 0,
      },
    ]);
  });

  test("CRLF line ends, a name with a comma, and empty output", () => {
    const gpus = parseNvidiaSmiCsv("0, Weird, Card, 1024, GPU-a, 1, 2\r\n1, Tesla T4, 15360, GPU-b, 0, 0\r\n");
    assert.equal(gpus[0].name, "Weird, Card");
    assert.equal(gpus[0].memoryMiB, 1024);
    assert.equal(gpus[1].name, "Tesla T4");
    assert.deepEqual(parseNvidiaSmiCsv(""), []);
  });

  test("output of another shape is an error naming the line", () => {
    assert.throws(() => parseNvidiaSmiCsv("No devices were found\n"), /line 1 .*No devices were found/);
    assert.throws(() => parseNvidiaSmiCsv("x, a, 1, u, 0, 0"), /does not start with a GPU index/);
  });
});

describe("parseSimulatedGpus", () => {
  test("TYPE:COUNT with the default memory, TYPE:COUNT:MEM_GB", () => {
    const four = parseSimulatedGpus("A100-80GB:4");
    assert.equal(four.length, 4);
    assert.deepEqual(
      four.map((g) => g.index),
      [0, 1, 2, 3],
    );
    assert.ok(four.every((g) => g.name === "A100-80GB" && g.memoryMiB === 80 * 1024));
    assert.deepEqual(
      parseSimulatedGpus("RTX-4090:1:24").map((g) => g.memoryMiB),
      [24 * 1024],
    );
    // A MiB figure (as in nvidia-smi) is not mistaken for GB.
    assert.deepEqual(
      parseSimulatedGpus("H100:2:81559").map((g) => g.memoryMiB),
      [81559, 81559],
    );
  });

  test("bad input is a clear error with a result code", () => {
    for (const bad of ["A100", "A100:", ":4", "A100:zero", "A100:0", "A100:4:x", "A100:4:80:1", "A100:1000"]) {
      assert.throws(
        () => parseSimulatedGpus(bad),
        (error: unknown) => {
          assert.ok(error instanceof FedmlError);
          assert.match(error.message, new RegExp(`invalid simulated GPUs "${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`));
          assert.match(error.message, /TYPE:COUNT\[:MEM_GB\]/);
          return true;
        },
      );
    }
  });
});

describe("detectNvidiaGpus", () => {
  const dir = mkdtempSync(join(tmpdir(), "fedml-gpus-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const fake = (name: string, body: string) => {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  };

  test("reads what nvidia-smi prints for the query", async () => {
    const smi = fake("ok", `cat '${join(import.meta.dirname, "fixtures", "nvidia-smi-rtx4090.csv")}'`);
    const { gpus, error } = await detectNvidiaGpus(smi);
    assert.equal(error, null);
    assert.equal(gpus[0].name, "NVIDIA GeForce RTX 4090");
  });

  test("says exactly what failed", async () => {
    const missing = await detectNvidiaGpus(join(dir, "no-such-nvidia-smi"));
    assert.deepEqual(missing.gpus, []);
    assert.match(missing.error ?? "", /no-such-nvidia-smi not found on PATH/);

    const driver = fake(
      "driver",
      `echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." ; exit 9`,
    );
    assert.match((await detectNvidiaGpus(driver)).error ?? "", /exited with code 9: NVIDIA-SMI has failed because/);

    const garbage = fake("garbage", `echo "No devices were found"`);
    assert.match((await detectNvidiaGpus(garbage)).error ?? "", /line 1 .*No devices were found/);
  });

  test("detectFacts carries the reason, or the simulated GPUs", async () => {
    const base = { name: "", provider: "p", region: "r", pricePerGpuHour: 1.5, shared: true, maxJobs: null, address: null };
    const real = await detectFacts({ ...base, simulateGpus: null }, { nvidiaSmi: join(dir, "absent") });
    assert.deepEqual(real.gpus, []);
    assert.match(real.gpuError ?? "", /absent not found/);
    assert.equal(real.simulated, false);
    assert.ok(real.maxJobs >= 1 && real.cpuCount >= 1 && real.memoryBytes > 0);
    assert.ok(real.name.length > 0 && real.address.length > 0);

    const sim = await detectFacts({ ...base, simulateGpus: "A100-80GB:2", maxJobs: 3, address: "10.1.2.3", name: "box" });
    assert.equal(sim.gpus.length, 2);
    assert.equal(sim.simulated, true);
    assert.equal(sim.gpuError, null);
    assert.equal(sim.maxJobs, 3);
    assert.equal(sim.address, "10.1.2.3");
    assert.equal(sim.name, "box");
  });
});
