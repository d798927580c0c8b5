import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseCpus, parseMemoryBytes } from "../src/job-yaml/computing.js";
import { isContainerJob, jobContainer, parseJobYaml, resolveApiKey } from "../src/index.js";

describe("computing.memory and computing.cpus", () => {
  test("sizes with units, binary or decimal; a bare number is GB", () => {
    assert.equal(parseMemoryBytes("8GB"), 8e9);
    assert.equal(parseMemoryBytes("512MiB"), 512 * 1024 * 1024);
    assert.equal(parseMemoryBytes("2g"), 2e9);
    assert.equal(parseMemoryBytes(16), 16e9);
    assert.equal(parseMemoryBytes("1.5 GiB"), 1.5 * 1024 ** 3);
    for (const bad of ["lots", "-1GB", "10KB", ""]) assert.equal(parseMemoryBytes(bad), null, bad);
    assert.equal(parseCpus(2), 2);
    assert.equal(parseCpus("0.5"), 0.5);
    for (const bad of [0, -1, "two", 1e9]) assert.equal(parseCpus(bad), null, String(bad));
  });

  test("are read from the YAML, and a bad value names its line", () => {
    const spec = parseJobYaml("job: x\ncomputing:\n  memory: 64MB\n  cpus: 1.5\n");
    assert.equal(spec.computing.memoryBytes, 64e6);
    assert.equal(spec.computing.cpus, 1.5);
    assert.deepEqual(spec.computing.extra, {});
    assert.throws(
      () => parseJobYaml("job: x\ncomputing:\n  memory: plenty\n"),
      /job\.yaml:3:11: computing\.memory: expected a memory size/,
    );
  });
});

describe("container jobs", () => {
  test("docker.image or containerize: true make one; the image is carried with its credentials", () => {
    const spec = parseJobYaml("job: x\ndocker:\n  image: pytorch:2\n  registry: reg.example\n  username: u\n  password: p\n");
    assert.ok(isContainerJob(spec));
    assert.deepEqual(jobContainer(spec), {
      image: "pytorch:2",
      registry: "reg.example",
      username: "u",
      password: "p",
      ports: [],
    });
    assert.equal(jobContainer(parseJobYaml("job: x\n")), null);
    assert.equal(jobContainer(parseJobYaml("job: x\ncontainerize: true\n"))?.image, "");
  });
});

describe("resolveApiKey", () => {
  const none = { env: {} };
  test("from the argument, stdin ('-' or the flag), a file or FEDML_API_KEY, trimmed", () => {
    assert.equal(resolveApiKey({ ...none, argument: "k1" }), "k1");
    assert.equal(resolveApiKey({ ...none, argument: "-", readStdin: () => "k2\n" }), "k2");
    assert.equal(resolveApiKey({ ...none, stdin: true, readStdin: () => " k3 " }), "k3");
    assert.equal(resolveApiKey({ env: { FEDML_API_KEY: "k4" } }), "k4");
  });

  test("refuses two sources, an empty key and no key, naming the ways to give one", () => {
    assert.throws(() => resolveApiKey({ ...none, argument: "k", stdin: true }), /one way/);
    assert.throws(() => resolveApiKey({ ...none, stdin: true, readStdin: () => "\n" }), /the API key is empty/);
    assert.throws(() => resolveApiKey(none), /--api-key-stdin, --api-key-file FILE or in FEDML_API_KEY/);
    assert.throws(
      () => resolveApiKey({ ...none, file: "/nonexistent/key" }),
      /cannot read the API key file \/nonexistent\/key: ENOENT/,
    );
  });
});
