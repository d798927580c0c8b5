import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { DEFAULT_JOB_YAML_LIMITS, defaultJobName, FedmlError, parseJobYaml, readJobYaml, ResultCode } from "../src/index.js";

/** Asserts that parsing throws FedmlError with `code` and a message matching `message`. */
function assertFails(yaml: string, code: number, message: RegExp | string, path?: string): void {
  assert.throws(
    () => parseJobYaml(yaml, path ? { path } : {}),
    (err: unknown) => {
      assert.ok(err instanceof FedmlError, `expected FedmlError, got ${String(err)}`);
      assert.equal(err.resultCode, code, err.message);
      if (typeof message === "string") assert.equal(err.message, message);
      else assert.match(err.message, message);
      assert.ok(!err.message.includes("\n"), `message is one line: ${err.message}`);
      return true;
    },
  );
}

const INVALID = ResultCode.LAUNCH_JOB_STATUS_INVALID;
const NO_JOBS = ResultCode.LAUNCH_JOB_STATUS_NO_JOBS;

describe("parseJobYaml: the facts file's examples", () => {
  test("hello world", () => {
    const spec = parseJobYaml(
      [
        "workspace: hello_world",
        "job: |",
        '  echo "current job id: $FEDML_CURRENT_RUN_ID"',
        "  python3 hello_world.py",
        "bootstrap: |",
        '  echo "Bootstrap finished."',
        "computing:",
        "  minimum_num_gpus: 1",
        "  maximum_cost_per_hour: $3000",
        "  resource_type: RTX-4090",
      ].join("\n"),
    );
    assert.equal(spec.workspace, "hello_world");
    assert.equal(spec.job?.posix, 'echo "current job id: $FEDML_CURRENT_RUN_ID"\npython3 hello_world.py\n');
    assert.equal(spec.bootstrap?.posix, 'echo "Bootstrap finished."\n');
    assert.equal(spec.serverJob, null);
    assert.equal(spec.jobType, "train");
    assert.equal(spec.jobSubtype, null);
    assert.equal(spec.frameworkType, "general");
    assert.deepEqual(spec.computing, {
      minimumNumGpus: 1,
      maximumCostPerHour: 3000,
      resourceType: "RTX-4090",
      deviceType: "GPU",
      allowCrossCloudResources: false,
      extra: {},
    });
    assert.equal(spec.projectName, null);
    assert.equal(spec.jobName, null);
    assert.equal(spec.servingArgs, null);
    assert.equal(spec.docker, null);
    assert.equal(spec.containerize, false);
    assert.deepEqual(spec.extraEnv, {});
  });

  test("federated", () => {
    const spec = parseJobYaml(
      [
        "workspace: federated_mnist",
        "server_job: |",
        "  python3 server.py --rank 0 --run_id $FEDML_CURRENT_RUN_ID",
        "job: |",
        "  python3 client.py --rank $FEDML_CLIENT_RANK --run_id $FEDML_CURRENT_RUN_ID",
        "job_type: federate",
        "job_subtype: cross_silo",
        "computing: {minimum_num_gpus: 1, maximum_cost_per_hour: $3000, resource_type: A100-80GB-SXM}",
      ].join("\n"),
    );
    assert.equal(spec.jobType, "federate");
    assert.equal(spec.jobSubtype, "cross_silo");
    assert.match(spec.serverJob?.posix ?? "", /server\.py --rank 0/);
    assert.equal(spec.computing.resourceType, "A100-80GB-SXM");
    assert.equal(spec.computing.maximumCostPerHour, 3000);
  });
});

describe("parseJobYaml: commands", () => {
  test("a map with run_on_posix / run_on_windows", () => {
    const spec = parseJobYaml(
      "job:\n  run_on_posix: ./run.sh\n  run_on_windows: run.bat\nbootstrap:\n  run_on_windows: setup.bat\n",
    );
    assert.deepEqual(spec.job, { posix: "./run.sh", windows: "run.bat" });
    assert.deepEqual(spec.bootstrap, { posix: null, windows: "setup.bat" });
  });

  test("a string runs on both", () => {
    assert.deepEqual(parseJobYaml("job: echo hi").job, { posix: "echo hi", windows: "echo hi" });
  });

  test("no job -> 13, naming the file", () => {
    assertFails("workspace: x\n", NO_JOBS, "train.yaml:1:1: job: missing; add job: with the commands to run", "/a/b/train.yaml");
  });

  test("a blank job -> 13 at its line", () => {
    assertFails("workspace: x\njob: '   '\n", NO_JOBS, /^job\.yaml:2:\d+: job: nothing to run on posix/);
    assertFails("workspace: x\njob:\n", NO_JOBS, /^job\.yaml:2:\d+: job: nothing to run on posix/);
  });

  test("a job for windows only -> 13", () => {
    assertFails("job:\n  run_on_windows: run.bat\n", NO_JOBS, /^job\.yaml:1:\d+: job: nothing to run on posix/);
  });

  test("federate needs server_job and job", () => {
    assertFails("job_type: federate\njob: echo client\n", NO_JOBS, /^job\.yaml:1:\d+: server_job: missing/);
    assertFails("job_type: federate\nserver_job: echo server\n", NO_JOBS, /^job\.yaml:1:\d+: job: missing/);
  });

  test("unknown key in a command map -> 17 at its line", () => {
    assertFails(
      "job:\n  run_on_posix: a\n  run_on_linux: b\n",
      INVALID,
      "job.yaml:3:3: job.run_on_linux: unknown key, did you mean run_on_posix?",
    );
  });

  test("a list as a command -> 17", () => {
    assertFails("job:\n  - echo hi\n", INVALID, /^job\.yaml:2:\d+: job: expected a map, got a list/);
    assertFails(
      "job:\n  run_on_posix: [a]\n",
      INVALID,
      /^job\.yaml:2:\d+: job\.run_on_posix: expected commands as text, got a list/,
    );
  });
});

describe("parseJobYaml: job kinds", () => {
  test("task_type wins over job_type", () => {
    assert.equal(parseJobYaml("job: x\njob_type: serve\ntask_type: deploy").jobType, "deploy");
    assert.equal(parseJobYaml("job: x\njob_type: serve").jobType, "serve");
    assert.equal(parseJobYaml("job: x\ntask_type: dev-environment").jobType, "dev-environment");
  });

  test("job types are matched case-insensitively", () => {
    assert.equal(parseJobYaml("job: x\njob_type: Train").jobType, "train");
  });

  test("an unknown job type -> 17", () => {
    assertFails(
      "job: x\njob_type: training\n",
      INVALID,
      'job.yaml:2:11: job_type: "training" is not one of train, deploy, serve, federate, dev-environment',
    );
  });

  test("generate_training is read as general_training", () => {
    assert.equal(parseJobYaml("job: x\njob_subtype: generate_training").jobSubtype, "general_training");
  });

  test("subtypes are checked against the job type", () => {
    assert.equal(parseJobYaml("job: x\njob_subtype: cross_cloud_training").jobSubtype, "cross_cloud_training");
    assert.equal(parseJobYaml("job: x\nserver_job: y\njob_type: federate\njob_subtype: simulation").jobSubtype, "simulation");
    assertFails(
      "job: x\njob_subtype: cross_silo\n",
      INVALID,
      /^job\.yaml:2:\d+: job_subtype: "cross_silo" is not a train subtype \(expected one of general_training/,
    );
  });

  test("job types without a subtype list keep the subtype as written", () => {
    assert.equal(parseJobYaml("job: x\njob_type: deploy\njob_subtype: custom").jobSubtype, "custom");
  });

  test("framework_type", () => {
    assert.equal(parseJobYaml("job: x\nframework_type: PyTorch").frameworkType, "pytorch");
    assertFails("job: x\nframework_type: jax\n", INVALID, /^job\.yaml:2:\d+: framework_type: "jax" is not one of general, fedml/);
  });
});

describe("parseJobYaml: computing", () => {
  const computing = (body: string) => parseJobYaml(`job: x\ncomputing:\n${body}`).computing;

  test("prices in every written form", () => {
    assert.equal(computing("  maximum_cost_per_hour: $1.75").maximumCostPerHour, 1.75);
    assert.equal(computing('  maximum_cost_per_hour: "$1.75"').maximumCostPerHour, 1.75);
    assert.equal(computing('  maximum_cost_per_hour: "1.75"').maximumCostPerHour, 1.75);
    assert.equal(computing("  maximum_cost_per_hour: 2.5").maximumCostPerHour, 2.5);
    assert.equal(computing("  maximum_cost_per_hour: $0").maximumCostPerHour, 0);
    assert.equal(computing("  resource_type: A100").maximumCostPerHour, 0);
  });

  test("a garbage price -> 17 at its line", () => {
    assertFails(
      "job: x\ncomputing:\n  minimum_num_gpus: 1\n  maximum_cost_per_hour: cheap\n",
      INVALID,
      'job.yaml:4:26: computing.maximum_cost_per_hour: not a price: text "cheap" (write it like "$1.75")',
    );
    assertFails(
      "job: x\ncomputing:\n  maximum_cost_per_hour: -1\n",
      INVALID,
      /computing\.maximum_cost_per_hour: not a price: -1/,
    );
  });

  test("minimum_num_gpus must be a whole number >= 0", () => {
    assert.equal(computing("  minimum_num_gpus: 8").minimumNumGpus, 8);
    assert.equal(computing('  minimum_num_gpus: "2"').minimumNumGpus, 2);
    assertFails(
      "job: x\ncomputing:\n  minimum_num_gpus: 1.5\n",
      INVALID,
      "job.yaml:3:21: computing.minimum_num_gpus: expected a whole number >= 0, got 1.5",
    );
    assertFails("job: x\ncomputing:\n  minimum_num_gpus: two\n", INVALID, /expected a whole number >= 0, got text "two"/);
  });

  test("device_type is case-insensitive with a canonical output", () => {
    assert.equal(computing("  device_type: cpu").deviceType, "CPU");
    assert.equal(computing("  device_type: HYBRID").deviceType, "hybrid");
    assertFails(
      "job: x\ncomputing:\n  device_type: TPU\n",
      INVALID,
      /computing\.device_type: "TPU" is not one of GPU, CPU, hybrid/,
    );
  });

  test("allow_cross_cloud_resources is a boolean; our own keys are kept in extra", () => {
    const c = computing("  allow_cross_cloud_resources: true\n  priority: 5\n  retry: {limit: 2}\n  num_edges: 3");
    assert.equal(c.allowCrossCloudResources, true);
    assert.deepEqual(c.extra, { priority: 5, retry: { limit: 2 }, num_edges: 3 });
    assertFails("job: x\ncomputing:\n  allow_cross_cloud_resources: yes\n", INVALID, /expected true or false, got text "yes"/);
  });

  test("computing must be a map", () => {
    assertFails("job: x\ncomputing: 4\n", INVALID, "job.yaml:2:12: computing: expected a map, got 4");
  });
});

describe("parseJobYaml: other reserved keys", () => {
  test("fedml_env, job_name, job_args, containerize", () => {
    const spec = parseJobYaml(
      "job: x\nfedml_env:\n  project_name: vision\njob_name: my-run\njob_args: {lr: 0.1, epochs: [1, 2]}\ncontainerize: true\n",
    );
    assert.equal(spec.projectName, "vision");
    assert.equal(spec.jobName, "my-run");
    assert.deepEqual(spec.jobArgs, { lr: 0.1, epochs: [1, 2] });
    assert.equal(spec.containerize, true);
  });

  test("serving_args", () => {
    const spec = parseJobYaml(
      "job: x\njob_type: deploy\nserving_args:\n  model_name: llama\n  model_version: 1.0\n  endpoint_id: 42\n  extra_thing: ok\n",
    );
    assert.deepEqual(spec.servingArgs, {
      modelName: "llama",
      modelVersion: "1.0",
      modelStorageUrl: null,
      endpointName: null,
      endpointId: "42",
      minReplicas: null,
      maxReplicas: null,
      targetInflightRequests: null,
      targetRequestsPerSecond: null,
      scaleDownDelaySeconds: null,
      readinessProbePath: null,
      readinessProbeIntervalSeconds: null,
    });
  });

  test("serving_args: replicas, autoscaling and the readiness probe", () => {
    const args = (yaml: string) => parseJobYaml(`job: x\njob_type: serve\nserving_args:\n${yaml}`).servingArgs;
    assert.deepEqual(
      { min: args("  replicas: 3\n")?.minReplicas, max: args("  replicas: 3\n")?.maxReplicas },
      { min: 3, max: 3 },
    );
    const scaled = args(
      "  min_replicas: 0\n  max_replicas: 4\n  target_inflight_requests: 2\n  scale_down_delay_seconds: 30\n  readiness_probe_path: /health\n  readiness_probe_interval_seconds: 5\n",
    );
    assert.equal(scaled?.minReplicas, 0);
    assert.equal(scaled?.maxReplicas, 4);
    assert.equal(scaled?.targetInflightRequests, 2);
    assert.equal(scaled?.scaleDownDelaySeconds, 30);
    assert.equal(scaled?.readinessProbePath, "/health");
    assert.equal(scaled?.readinessProbeIntervalSeconds, 5);
    assert.throws(() => args("  min_replicas: 3\n  max_replicas: 2\n"), /min_replicas 3 is above max_replicas 2/);
    assert.throws(() => args("  replicas: 65\n"), /at most 64 replicas/);
    assert.throws(() => args("  replicas: -1\n"), /whole number/);
    assert.throws(() => args("  readiness_probe_path: health\n"), /must start with \//);
    assert.throws(() => args("  min_replica: 2\n"), /did you mean min_replicas/);
    assert.equal(args("  target_requests_per_second: 50\n")?.targetRequestsPerSecond, 50);
    assert.throws(() => args("  target_requests_per_second: 0\n"), /target_requests_per_second must be at least 1/);
  });

  test("docker", () => {
    const spec = parseJobYaml("job: x\ndocker:\n  image: pytorch/pytorch:2.1\n  registry: docker.io\n  ports: [8080, '9090']\n");
    assert.deepEqual(spec.docker, {
      image: "pytorch/pytorch:2.1",
      registry: "docker.io",
      username: null,
      password: null,
      ports: [8080, 9090],
    });
    assert.deepEqual(parseJobYaml("job: x\ndocker:\n  ports: 22\n").docker?.ports, [22]);
    assertFails(
      "job: x\ndocker:\n  ports:\n    - 80\n    - 70000\n",
      INVALID,
      "job.yaml:5:7: docker.ports[1]: expected a port 1..65535, got 70000",
    );
    assertFails("job: x\ndocker:\n  imagee: x\n", INVALID, /^job\.yaml:3:\d+: docker\.imagee: unknown key/);
  });

  test("type errors name the key path and line", () => {
    assertFails("job: x\nworkspace: [a]\n", INVALID, "job.yaml:2:12: workspace: expected text, got a list");
    assertFails("job: x\njob_name: true\n", INVALID, "job.yaml:2:11: job_name: expected text, got true");
    assertFails(
      "job: x\nfedml_env:\n  project_name: {a: 1}\n",
      INVALID,
      "job.yaml:3:17: fedml_env.project_name: expected text, got a map",
    );
    assertFails("job: x\ncontainerize: 1\n", INVALID, "job.yaml:2:15: containerize: expected true or false, got 1");
  });

  test("aliases resolve", () => {
    const spec = parseJobYaml("defaults: &cmd echo hi\njob: *cmd\n");
    assert.equal(spec.job?.posix, "echo hi");
  });
});

describe("parseJobYaml: pass-through keys become FEDML_ENV_*", () => {
  test("leaves flattened to upper snake case", () => {
    const spec = parseJobYaml(
      [
        "job: x",
        "data_args:",
        "  dataset_name: mnist",
        "  data-cache.dir: /tmp/c",
        "  sizes: [10, 2.50]",
        "  nested: {deep: {flag: false}}",
        "  nothing:",
        "train_args: {learning_rate: 0.001}",
        "seed: 42",
      ].join("\n"),
    );
    assert.deepEqual(spec.extraEnv, {
      FEDML_ENV_DATA_ARGS_DATASET_NAME: "mnist",
      FEDML_ENV_DATA_ARGS_DATA_CACHE_DIR: "/tmp/c",
      FEDML_ENV_DATA_ARGS_SIZES_0: "10",
      FEDML_ENV_DATA_ARGS_SIZES_1: "2.50",
      FEDML_ENV_DATA_ARGS_NESTED_DEEP_FLAG: "false",
      FEDML_ENV_DATA_ARGS_NOTHING: "",
      FEDML_ENV_TRAIN_ARGS_LEARNING_RATE: "0.001",
      FEDML_ENV_SEED: "42",
    });
  });

  test("reserved keys are not flattened", () => {
    const spec = parseJobYaml("job: x\nworkspace: w\njob_args: {a: 1}\n");
    assert.deepEqual(spec.extraEnv, {});
  });

  test("alias cycles are refused, not looped on", () => {
    assertFails("job: x\nloop: &a [*a]\n", INVALID, /alias \*a refers to a node that contains it/);
  });
});

describe("parseJobYaml: malformed documents", () => {
  test("YAML syntax errors -> 17 with the line", () => {
    assertFails("job: x\ncomputing:\n  a: [1, 2\n", INVALID, /^job\.yaml:\d+:\d+: invalid YAML: /);
    assertFails("job: x\njob: y\n", INVALID, 'job.yaml:2:1: duplicate key "job": map keys must be unique');
    assertFails("job: x\n\tbad: tab\n", INVALID, /^job\.yaml:2:\d+: invalid YAML: /);
  });

  test("a top level that is not a map -> 17", () => {
    assertFails("- job\n", INVALID, /^job\.yaml:1:\d+: expected a map of keys .* got a list$/);
    assertFails("just text\n", INVALID, /got text "just text"$/);
    assertFails("", INVALID, /got nothing$/);
  });
});

describe("readJobYaml", () => {
  test("reads the file and reports its folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "fedml-core-yaml-"));
    try {
      mkdirSync(join(dir, "sub"));
      const path = join(dir, "sub", "train.yaml");
      writeFileSync(path, "workspace: ws\njob: echo hi\n");
      const { text, spec, yamlDir } = readJobYaml(path);
      assert.equal(text, "workspace: ws\njob: echo hi\n");
      assert.equal(spec.workspace, "ws");
      assert.equal(yamlDir, join(dir, "sub"));
      writeFileSync(path, "job: [\n");
      assert.throws(() => readJobYaml(path), /^FedmlError: train\.yaml:1:\d+: invalid YAML/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a missing file -> 31", () => {
    const path = join(tmpdir(), "fedml-core-no-such-dir", "job.yaml");
    assert.throws(
      () => readJobYaml(path),
      (err: unknown) =>
        err instanceof FedmlError &&
        err.resultCode === ResultCode.JOB_CONFIG_NOT_EXISTS &&
        err.message === `job YAML not found: ${path}`,
    );
  });

  test("a folder -> 31", () => {
    assert.throws(
      () => readJobYaml(tmpdir()),
      (err: unknown) => err instanceof FedmlError && err.resultCode === 31,
    );
  });
});

describe("defaultJobName", () => {
  const spec = (jobName: string | null) => ({ jobName });
  test("job_name wins, then the workspace folder, then a fixed name", () => {
    assert.equal(defaultJobName(spec("mine"), "hello_world"), "mine");
    assert.equal(defaultJobName(spec(null), "hello_world"), "hello_world_FedMLLaunchApp");
    assert.equal(defaultJobName(spec(null), null), "FedMLLaunchApp");
  });
});

describe("parseJobYaml: typos", () => {
  test("an unknown key under computing is refused with the key it was meant to be", () => {
    assertFails(
      "job: x\ncomputing:\n  minimum_num_gpu: 4\n",
      INVALID,
      "job.yaml:3:3: computing.minimum_num_gpu: unknown key, did you mean minimum_num_gpus?",
    );
    assertFails(
      "job: x\ncomputing:\n  region: us\n",
      INVALID,
      /^job\.yaml:3:3: computing\.region: unknown key \(expected minimum_num_gpus, /,
    );
  });

  test("near misses of reserved keys at the top level, in fedml_env and serving_args", () => {
    assertFails("job: x\nbootstrp: echo\n", INVALID, "job.yaml:2:1: bootstrp: unknown key, did you mean bootstrap?");
    assertFails(
      "job: x\nfedml_env:\n  project_nam: p\n",
      INVALID,
      /fedml_env\.project_nam: unknown key, did you mean project_name\?/,
    );
    assertFails(
      "job: x\nserving_args:\n  model_nme: m\n",
      INVALID,
      /serving_args\.model_nme: unknown key, did you mean model_name\?/,
    );
    assertFails("job: x\ndocker:\n  imagee: x\n", INVALID, /docker\.imagee: unknown key, did you mean image\?/);
  });

  test("free-form keys and the original's documented keys are still accepted", () => {
    const spec = parseJobYaml(
      [
        "workspace: ws",
        "job: echo hi",
        "bootstrap: echo boot",
        "job_type: train",
        "job_subtype: generate_training",
        "framework_type: pytorch",
        "fedml_env: {project_name: p, platform_key: kept}",
        "job_name: n",
        "job_args: {anything: [1, 2]}",
        "serving_args: {model_name: m, model_version: v, model_storage_url: u, endpoint_name: e, endpoint_id: i, extra: ok}",
        "computing:",
        "  minimum_num_gpus: 1",
        "  maximum_cost_per_hour: $1.5",
        "  resource_type: A100",
        "  device_type: GPU",
        "  allow_cross_cloud_resources: false",
        "data_args: {dataset_name: mnist}",
        "model_args: {model: resnet}",
        "train_args: {epochs: 2}",
      ].join("\n"),
    );
    assert.equal(spec.computing.minimumNumGpus, 1);
    assert.equal(spec.extraEnv.FEDML_ENV_DATA_ARGS_DATASET_NAME, "mnist");
    assert.equal(spec.extraEnv.FEDML_ENV_TRAIN_ARGS_EPOCHS, "2");
  });

  test("every error of a file is reported at once, each with line and column", () => {
    assertFails(
      [
        "job:",
        "  run_on_posx: echo",
        "computing:",
        "  minimum_num_gpu: 4",
        "  maximum_cost_per_hour: cheap",
        "job_type: training",
        "docker: {imagee: x, ports: [1, 70000]}",
      ].join("\n"),
      INVALID,
      [
        "job.yaml: 5 errors:",
        "job.yaml:2:3: job.run_on_posx: unknown key, did you mean run_on_posix?;",
        "job.yaml:4:3: computing.minimum_num_gpu: unknown key, did you mean minimum_num_gpus?;",
        'job.yaml:5:26: computing.maximum_cost_per_hour: not a price: text "cheap" (write it like "$1.75");',
        'job.yaml:6:11: job_type: "training" is not one of train, deploy, serve, federate, dev-environment;',
        "job.yaml:7:10: docker.imagee: unknown key, did you mean image?;",
        "job.yaml:7:32: docker.ports[1]: expected a port 1..65535, got 70000",
      ]
        .join(" ")
        .replace("5 errors", "6 errors"),
    );
  });
});

describe("parseJobYaml: bounds on what a document may expand to", () => {
  const elapsed = (f: () => void) => {
    const t0 = performance.now();
    f();
    return performance.now() - t0;
  };

  test("nested aliases (a billion laughs) are refused by expanded size, quickly", () => {
    const lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(", ")}]`,
      );
    const bomb = `job: x\n${lines.join("\n")}\njob_args: *a11\n`;
    assert.ok(bomb.length < 2000);
    const ms = elapsed(() => assertFails(bomb, INVALID, /expands to more than 100000 values once aliases are expanded/));
    assert.ok(ms < 1000, `took ${ms} ms`);
  });

  test("90,000 keys under the size cap are refused before the document is built", () => {
    const keys = Array.from({ length: 90_000 }, (_, i) => `${i.toString(36)}: 1`).join("\n");
    const text = `job: x\nextra:\n${keys.replace(/^/gm, "  ")}\n`;
    assert.ok(text.length < 1_000_000, `${text.length}`);
    const ms = elapsed(() => assertFails(text, INVALID, /^job\.yaml: more than 10000 keys/));
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  test("duplicate keys are found in linear time, deep nesting and too many variables refused", () => {
    const keys = Array.from({ length: 9_000 }, (_, i) => `k${i}: 1`).join("\n");
    const ms = elapsed(() => assertFails(`job: x\n${keys}\nk5: 2\n`, INVALID, /duplicate key "k5": map keys must be unique/));
    // Comparing every pair of 9,000 keys took seconds; a Set takes milliseconds (the bound is
    // loose for a loaded test machine).
    assert.ok(ms < 5000, `took ${ms} ms`);
    assertFails(`job: x\ndeep: ${"[".repeat(80)}${"]".repeat(80)}\n`, INVALID, /nested more than 64 levels deep/);
    const block = `job: x\ndeep:\n${Array.from({ length: 70 }, (_, i) => `${" ".repeat(i + 1)}k${i}:`).join("\n")} 1\n`;
    assertFails(block, INVALID, /nested more than 64 levels deep/);
    const limits = { ...DEFAULT_JOB_YAML_LIMITS, maxExtraEnvVars: 3 };
    assert.throws(
      () => parseJobYaml("job: x\na: [1, 2, 3, 4]\n", { limits }),
      /a\.3: more than 3 values outside the reserved keys/,
    );
    const big = "x".repeat(600_000);
    assertFails(`job: x\na: ${big}\n`, INVALID, /add up to more than 524288 characters of FEDML_ENV_\* variables/);
  });

  test("aliases under job_args and elsewhere are expanded when small", () => {
    const spec = parseJobYaml("job: x\nbase: &b {lr: 0.1}\njob_args: {a: *b, b: *b, c: *b}\n");
    assert.deepEqual(spec.jobArgs, { a: { lr: 0.1 }, b: { lr: 0.1 }, c: { lr: 0.1 } });
    assert.equal(spec.extraEnv.FEDML_ENV_BASE_LR, "0.1");
  });
});
