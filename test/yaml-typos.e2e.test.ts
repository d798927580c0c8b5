import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createUser, runCli, type ServerProcess, startServer } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";

const tmp = makeTempDir("yaml-typos");
let server: ServerProcess;
let env: Record<string, string>;

before(async () => {
  server = await startServer(join(tmp.dir, "server"));
  const key = await createUser(server, "typist");
  env = { FEDML_HOME: join(tmp.dir, "client"), FEDML_SERVER_URL: server.url, FEDML_API_KEY: key };
});
after(async () => {
  await server?.stop();
  tmp.cleanup();
});

test("fedml launch names every typo of a job YAML at once, with line and column, and stores nothing", async () => {
  const bad = join(tmp.dir, "bad.yaml");
  writeFileSync(
    bad,
    [
      "job: echo hi",
      "computing:",
      "  minimum_num_gpu: 4",
      "  maximum_cost_per_hour: $1",
      "  resource_typ: A100",
      "bootstrp: echo set up",
      "data_args:",
      "  dataset_name: mnist",
    ].join("\n"),
  );
  const result = await runCli(["launch", bad], env);
  assert.notEqual(result.code, 0);
  const stderr = result.stderr.trim();
  assert.equal(stderr.split("\n").length, 1, stderr);
  for (const expected of [
    "bad.yaml: 3 errors",
    "bad.yaml:3:3: computing.minimum_num_gpu: unknown key, did you mean minimum_num_gpus?",
    "bad.yaml:5:3: computing.resource_typ: unknown key, did you mean resource_type?",
    "bad.yaml:6:1: bootstrp: unknown key, did you mean bootstrap?",
  ]) {
    assert.ok(stderr.includes(expected), `missing ${expected} in: ${stderr}`);
  }
  assert.match(stderr, /17/);

  const list = await runCli(["run", "list", "--json"], env);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout).runList, []);

  // The same file without the typos is accepted (free-form data_args included).
  const good = join(tmp.dir, "good.yaml");
  writeFileSync(good, "job: echo hi\ncomputing:\n  minimum_num_gpus: 0\ndata_args:\n  dataset_name: mnist\n");
  const launched = await runCli(["launch", good, "--json"], env);
  assert.notEqual(JSON.parse(launched.stdout).resultCode, 17, launched.stdout);
});

test("a server started with V8 flags on node's command line still reads job YAML", async () => {
  // Such flags are refused by worker threads: the parser thread must start without them.
  // Posted to the API itself: the CLI reads a job YAML before the server does.
  const flagged = await startServer(join(tmp.dir, "flagged"), { nodeArgs: ["--max-old-space-size=512", "--stack-size=900"] });
  try {
    const key = await createUser(flagged, "flagged");
    const launch = async (yamlText: string) => {
      const res = await fetch(`${flagged.url}/api/v1/runs`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ yamlText, workspaceSha256: null }),
      });
      return (await res.json()) as { resultCode: number; resultMsg: string; error?: string; runId: string | null };
    };
    const refused = await launch("job: echo hi\ncomputing: {minimum_num_gpu: 1}\n");
    assert.equal(refused.resultCode, 17, refused.error);
    assert.match(refused.error ?? "", /did you mean minimum_num_gpus/);
    // Read and accepted: what stops it now is that no device is bound.
    const accepted = await launch("job: echo hi\n");
    assert.match(accepted.resultMsg, /no device is online/);
  } finally {
    await flagged.stop();
  }
});
