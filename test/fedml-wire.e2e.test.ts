// Conformance of the official FedML client's wire protocol, written from the reference
// (requests shaped as that client sends them), against a real server and agent.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api } from "fedml";
import { strToU8, zipSync } from "fflate";
import { type Envelope, packageZip, registration, runCall, s3ConfigAt, uploadPackageAt, wireAt } from "./support/fedml-wire.js";
import { writeJob } from "./support/jobs.js";
import { type AgentProcess, type ServerProcess, startAgent, startServerWithAgent } from "./support/processes.js";
import { makeTempDir } from "./support/tmp.js";
import { ENDED_STATUSES } from "./support/runs.js";
import { waitFor } from "./support/wait.js";

const tmp = makeTempDir("wire");
let server: ServerProcess;
let agent: AgentProcess;
let alice: { serverUrl: string; apiKey: string };
let bob: { serverUrl: string; apiKey: string };

const wire = (path: string, body: unknown, raw = false) => wireAt(server.url, path, body, raw);
const s3Config = () => s3ConfigAt(server.url);
const uploadPackage = (name: string, zip: Buffer) => uploadPackageAt(server.url, name, zip);

function assertFailure(envelope: Envelope, pattern: RegExp) {
  assert.equal(envelope.code, "FAILURE", JSON.stringify(envelope));
  assert.equal(envelope.data, null);
  assert.match(envelope.message, pattern);
}

async function jobOf(runId: string, apiKey = alice.apiKey, platformType = "falcon") {
  const answer = await wire("/api/v1/platform/queryJobList", {
    platformType,
    jobName: "",
    jobId: runId,
    projectName: "",
    userApiKey: apiKey,
  });
  assert.equal(answer.code, "SUCCESS", answer.message);
  assert.equal(answer.data.jobList.length, 1);
  return answer.data.jobList[0];
}

/** The job as queryJobList answers it, once the run has ended. */
function jobAtEnd(runId: string) {
  return waitFor(
    `run ${runId} to end`,
    async () => {
      const job = await jobOf(runId);
      return ENDED_STATUSES.includes(job.status) ? job : undefined;
    },
    30_000,
    100,
  );
}

async function launch(name: string, job: string[]): Promise<string> {
  const path = writeJob(
    tmp.dir,
    name,
    ["workspace: ws", `job_name: ${name}`, "job: |", ...job.map((l) => `  ${l}`), ""].join("\n"),
  );
  const launched = await api.launchJob(path, alice);
  assert.equal(launched.resultCode, 0, launched.resultMsg);
  assert.ok(launched.runId);
  return launched.runId;
}

before(async () => {
  ({
    server,
    agent,
    callers: [alice, bob],
  } = await startServerWithAgent(tmp.dir, {
    users: ["alice", "bob"],
    serverArgs: ["--stop-grace-ms", "1500"],
    agentHome: "agent-a",
    agentArgs: ["--name", "box-a"],
  }));
});

after(async () => {
  await agent?.stop();
  await server?.stop();
  tmp.cleanup();
});

describe("the official client's wire protocol", () => {
  test("heartBeat: data true for a valid key, FAILURE otherwise", async () => {
    assert.deepEqual(await wire("/api/v1/cli/heartBeat", { apiKey: alice.apiKey }), {
      code: "SUCCESS",
      message: "Succeeded",
      data: true,
    });
    const wrong = await wire("/api/v1/cli/heartBeat", { apiKey: "not-a-key" });
    assert.equal(wrong.code, "FAILURE");
    assert.equal(wrong.data, false);
    assert.equal((await wire("/api/v1/cli/heartBeat", {})).code, "FAILURE");
  });

  test("a run shows in queryJobList, pages its logs in both field sets, and runs to FINISHED", async () => {
    const runId = await launch("wire-hello", ["for i in 1 2 3 4 5; do echo line $i; done"]);
    const ended = await jobAtEnd(runId);
    assert.equal(ended.status, "FINISHED");
    assert.equal(ended.id, runId);
    assert.equal(ended.name, "wire-hello");
    assert.match(ended.createTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(ended.endTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(typeof ended.spendTime, "number");
    assert.equal(typeof ended.cost, "number");
    assert.match(ended.jobUrl, new RegExp(`/runs/${runId}$`));
    assert.equal(ended.gpuMachines.length, 1);
    assert.equal(ended.gpuMachines[0].deviceId, agent.deviceId);
    assert.ok([0, 1, 2, 3].includes(ended.gpuMachines[0].brand));

    // By name too, as run_list sends it.
    const byName = await wire("/api/v1/platform/queryJobList", {
      platformType: "falcon",
      jobName: "wire-hello",
      jobId: "",
      projectName: "",
      userApiKey: alice.apiKey,
    });
    assert.deepEqual(
      byName.data.jobList.map((j: { id: string }) => j.id),
      [runId],
    );

    const page = await wire("/api/v1/log/getLogsFromCli", {
      apiKey: alice.apiKey,
      pageNum: 2,
      pageSize: 2,
      runId,
      timeZone: "Etc/UTC",
    });
    assert.equal(page.code, "SUCCESS", page.message);
    assert.deepEqual(page.data.logList, ["line 3", "line 4"]);
    assert.deepEqual(page.data.logs, page.data.logList);
    assert.equal(page.data.totalSize, 5);
    assert.equal(page.data.total_num, 5);
    assert.equal(page.data.totalPages, 3);
    assert.equal(page.data.total_pages, 3);
    assert.equal(page.data.pageNum, 2);
    assert.equal(page.data.current_page, 2);
    assert.match(page.data.log_full_url, new RegExp(`/runs/${runId}/logs/full$`));
    assert.equal(page.data.devices.length, 1);
    assert.equal(page.data.devices[0].id, agent.deviceId);
    assert.match(page.data.devices[0].log_url, /deviceId=/);

    // Older clients add edgeId "-1" and send the run id as a number.
    const older = await wire("/api/v1/log/getLogsFromCli", {
      apiKey: alice.apiKey,
      edgeId: "-1",
      pageNum: 1,
      pageSize: 1000,
      runId: Number(runId),
      timeZone: "Etc/UTC",
    });
    assert.deepEqual(older.data.logs, ["line 1", "line 2", "line 3", "line 4", "line 5"]);
    assert.equal(older.data.total_pages, 1);
  });

  test("stopApplicationFromCli stops a running run; the native API sees it KILLED", async () => {
    const runId = await launch("wire-sleeper", ["echo started", "sleep 60"]);
    await waitFor(`run ${runId} to run`, async () => (await jobOf(runId)).status === "RUNNING", 30_000, 100);
    const stopped = await wire("/api/v1/application/stopApplicationFromCli", {
      platformType: "falcon",
      jobId: runId,
      apiKey: alice.apiKey,
    });
    assert.equal(stopped.code, "SUCCESS", stopped.message);
    const job = await waitFor(
      `run ${runId} to be killed`,
      async () => {
        const j = await jobOf(runId);
        return j.status === "KILLED" ? j : undefined;
      },
      30_000,
      100,
    );
    assert.equal(job.status, "KILLED");
    const { status } = await api.runStatus(null, runId, alice);
    assert.equal(status, "KILLED");
  });

  test("another user's run is unknown, exactly like a missing one", async () => {
    const runId = await launch("wire-private", ["echo mine"]);
    const theirs = await wire("/api/v1/platform/queryJobList", {
      platformType: "falcon",
      jobName: "",
      jobId: runId,
      projectName: "",
      userApiKey: bob.apiKey,
    });
    const missing = await wire("/api/v1/platform/queryJobList", {
      platformType: "falcon",
      jobName: "",
      jobId: "999999",
      projectName: "",
      userApiKey: bob.apiKey,
    });
    assertFailure(theirs, /not found/);
    assertFailure(missing, /not found/);
    assert.equal(theirs.message.replace(runId, "X"), missing.message.replace("999999", "X"));
    assertFailure(await wire("/api/v1/log/getLogsFromCli", { apiKey: bob.apiKey, runId, pageNum: 1, pageSize: 10 }), /not found/);
    assertFailure(
      await wire("/api/v1/application/stopApplicationFromCli", { platformType: "falcon", jobId: runId, apiKey: bob.apiKey }),
      /not found/,
    );
    // Bob's empty list is a FAILURE, never an empty jobList (the client crashes on it).
    assertFailure(
      await wire("/api/v1/platform/queryJobList", {
        platformType: "falcon",
        jobName: "",
        jobId: "",
        projectName: "",
        userApiKey: bob.apiKey,
      }),
      /not found/,
    );
  });

  test("bad input to each endpoint is a FAILURE envelope with a message, never a 500", async () => {
    const calls = [
      "/api/v1/cli/heartBeat",
      "/api/v1/platform/queryJobList",
      "/api/v1/log/getLogsFromCli",
      "/api/v1/application/stopApplicationFromCli",
      "/api/v1/no/such/call",
    ];
    for (const path of calls) {
      for (const body of ["{not json", "[1,2]", "null", '"text"']) {
        const answer = await wire(path, body, true);
        assert.equal(answer.code, "FAILURE", `${path} ${body}: ${JSON.stringify(answer)}`);
        assert.ok(answer.message.length > 0);
      }
    }
    assertFailure(await wire("/api/v1/platform/queryJobList", { jobId: "1" }), /userApiKey/);
    assertFailure(await wire("/api/v1/log/getLogsFromCli", { apiKey: alice.apiKey }), /runId is missing/);
    assertFailure(
      await wire("/api/v1/log/getLogsFromCli", { apiKey: alice.apiKey, runId: "1", pageNum: 0, pageSize: 10 }),
      /pageNum must be/,
    );
    assertFailure(
      await wire("/api/v1/log/getLogsFromCli", { apiKey: alice.apiKey, runId: "1", pageNum: 1, pageSize: "lots" }),
      /pageSize must be/,
    );
    assertFailure(await wire("/api/v1/log/getLogsFromCli", { apiKey: alice.apiKey, runId: { a: 1 } }), /runId must be a string/);
    assertFailure(await wire("/api/v1/application/stopApplicationFromCli", { apiKey: alice.apiKey }), /jobId is missing/);
    assertFailure(await wire("/api/v1/application/stopApplicationFromCli", { apiKey: alice.apiKey, jobId: "abc" }), /not found/);
    assertFailure(
      await wire("/api/v1/platform/queryJobList", { userApiKey: alice.apiKey, jobId: "x".repeat(100) }),
      /jobId is longer/,
    );
  });
});

describe("launching through the official client's calls", () => {
  test("configs/fetch, S3 PUT of the package zip, register, match and start: an ordinary run to FINISHED", async () => {
    const zip = packageZip('echo "job says hi"\npython3 train.py\n', 'echo "bootstrap ran"\n', {
      "train.py": 'print("trained on", open("data.txt").read().strip())\n',
      "data.txt": "digits\n",
    });
    const fileUrl = await uploadPackage("wire_job", zip);
    const registered = await wire(
      "/api/v1/application/updateApplicationFromCli",
      registration("wire_job", fileUrl, alice.apiKey),
    );
    assert.equal(registered.code, "SUCCESS", registered.message);
    const matched = await wire("/api/v1/application/runApplicationFromCli", runCall("wire_job", alice.apiKey));
    assert.equal(matched.code, "SUCCESS", matched.message);
    const runId = matched.data.job_id;
    assert.ok(runId);
    assert.match(matched.data.job_url, new RegExp(`/runs/${runId}$`));
    assert.equal(matched.data.user_check, false);
    // The match found resources without starting: LAUNCHED reads as MATCHED to the client.
    assert.equal(matched.data.status, "LAUNCHED");
    assert.equal(matched.data.gpu_matched.length, 1);
    assert.equal(matched.data.gpu_matched[0].id, agent.deviceId);
    assert.equal(matched.data.gpu_matched[0].got_gpu_count, 0);
    assert.equal((await jobOf(runId)).status, "NOT_STARTED");
    const { status: held } = await api.runStatus(null, runId, alice);
    assert.equal(held, "NOT_STARTED");
    const started = await wire(
      "/api/v1/application/runApplicationFromCli",
      runCall("wire_job", alice.apiKey, { needConfirmation: false, jobId: runId }),
    );
    assert.equal(started.code, "SUCCESS", started.message);
    assert.equal(started.data.job_id, runId);
    const job = await jobAtEnd(runId);
    assert.equal(job.status, "FINISHED");
    assert.equal(job.name, "wire_job");
    // The same run through our own SDK, with its log.
    const { status } = await api.runStatus(null, runId, alice);
    assert.equal(status, "FINISHED");
    const logs = await api.runLogs(runId, 1, 100, { needAllLogs: true, ...alice });
    assert.deepEqual(logs.logLineList, ["bootstrap ran", "job says hi", "trained on digits"]);
    // The package was claimed: it is no longer served.
    assert.equal((await fetch(fileUrl)).status, 404);

    // A YAML with job_args.job_id uploads nothing: updateApplicationConfigFromCli registers a
    // new config of that application (here: that run, its workspace kept), and the run calls
    // name it by applicationId.
    const config = {
      applicationConfig: {
        environment_args: { bootstrap: "fedml_bootstrap_generated.sh" },
        job_yaml: {
          job: "python3 train.py; echo config two",
          job_name: "wire_job",
          job_args: { job_id: runId, config_id: "c2" },
        },
      },
      applicationId: runId,
      apiKey: alice.apiKey,
      applicationConfigId: "c2",
    };
    const configured = await wire("/api/v1/application/updateApplicationConfigFromCli", config);
    assert.equal(configured.code, "SUCCESS", configured.message);
    const rematched = await wire(
      "/api/v1/application/runApplicationFromCli",
      runCall("wire_job", alice.apiKey, { applicationId: runId, applicationConfigId: "c2" }),
    );
    assert.equal(rematched.code, "SUCCESS", rematched.message);
    const rerun = rematched.data.job_id;
    assert.notEqual(rerun, runId);
    // The start call carries applicationId but no config id, and the jobId.
    const restarted = await wire(
      "/api/v1/application/runApplicationFromCli",
      runCall("wire_job", alice.apiKey, { applicationId: runId, needConfirmation: false, jobId: rerun }),
    );
    assert.equal(restarted.data.job_id, rerun);
    assert.equal((await jobAtEnd(rerun)).status, "FINISHED");
    const relog = await api.runLogs(rerun, 1, 100, { needAllLogs: true, ...alice });
    assert.deepEqual(relog.logLineList, ["bootstrap ran", "trained on digits", "config two"]);

    // Refused with a message: an id that is no run of the caller's, a config without job_yaml.
    assertFailure(
      await wire("/api/v1/application/updateApplicationConfigFromCli", { ...config, apiKey: bob.apiKey }),
      /application \d+ not found/,
    );
    assertFailure(
      await wire("/api/v1/application/updateApplicationConfigFromCli", { ...config, applicationConfig: {} }),
      /applicationConfig.job_yaml is missing/,
    );
    const noConfig = await wire(
      "/api/v1/application/runApplicationFromCli",
      runCall("wire_job", bob.apiKey, { applicationId: runId }),
    );
    assert.equal(noConfig.data.job_url, "");
    assert.match(noConfig.message, /no config registered/);
  });

  test("a matched run is held, not started, until the start call; stopping it ends it KILLED", async () => {
    const fileUrl = await uploadPackage("wire_held", packageZip("echo should not run\n", "", {}));
    assert.equal(
      (await wire("/api/v1/application/updateApplicationFromCli", registration("wire_held", fileUrl, alice.apiKey))).code,
      "SUCCESS",
    );
    const matched = await wire("/api/v1/application/runApplicationFromCli", runCall("wire_held", alice.apiKey));
    const runId = matched.data.job_id;
    assert.equal(matched.data.status, "LAUNCHED");
    // The queue pass leaves it alone, and its device stays free for others.
    const other = await launch("wire-beside-held", ["echo beside"]);
    assert.equal((await jobAtEnd(other)).status, "FINISHED");
    assert.equal((await jobOf(runId)).status, "NOT_STARTED");
    const stopped = await wire("/api/v1/application/stopApplicationFromCli", {
      platformType: "falcon",
      jobId: runId,
      apiKey: alice.apiKey,
    });
    assert.equal(stopped.data.status, "KILLED");
    // A start call that comes too late reads as a failed launch to the client.
    const late = await wire(
      "/api/v1/application/runApplicationFromCli",
      runCall("wire_held", alice.apiKey, { needConfirmation: false, jobId: runId }),
    );
    assert.equal(late.code, "FAILURE");
    assert.equal(late.data.job_url, "");
    assert.match(late.message, /never started/);
  });

  test("registration refuses what cannot launch, with a message; run calls for no registration answer job_url empty", async () => {
    const empty = await wire("/api/v1/application/updateApplicationFromCli", registration("w2", "", alice.apiKey));
    assertFailure(empty, /no client package was uploaded/);
    const unknown = await wire(
      "/api/v1/application/updateApplicationFromCli",
      registration("w2", `${server.url}/fedml/never%40there`, alice.apiKey),
    );
    assertFailure(unknown, /not held by this server/);
    const notZip = await uploadPackage("w2", Buffer.from("this is no zip"));
    assertFailure(
      await wire("/api/v1/application/updateApplicationFromCli", registration("w2", notZip, alice.apiKey)),
      /not a readable zip/,
    );
    const noEntry = Buffer.from(zipSync({ "client-package/fedml/a.txt": strToU8("a") }));
    const noEntryUrl = await uploadPackage("w2", noEntry);
    assertFailure(
      await wire("/api/v1/application/updateApplicationFromCli", registration("w2", noEntryUrl, alice.apiKey)),
      /fedml_job_entry_pack\.sh/,
    );
    // An upload binds to nobody until a valid key registers it.
    const stray = await uploadPackage("w3", packageZip("echo hi\n", "", {}));
    assertFailure(await wire("/api/v1/application/updateApplicationFromCli", registration("w3", stray, "bad-key")), /API key/);
    const unregistered = await wire("/api/v1/application/runApplicationFromCli", runCall("never_registered", bob.apiKey));
    assert.equal(unregistered.code, "FAILURE");
    assert.equal(unregistered.data.job_url, "");
    assert.match(unregistered.message, /not registered/);
    for (const path of [
      "/api/v1/application/updateApplicationFromCli",
      "/api/v1/application/runApplicationFromCli",
      "/configs/fetch",
    ]) {
      for (const body of ["{not json", "[1]"]) {
        const answer = await wire(path, body, true);
        if (body !== "[1]" || path !== "/configs/fetch") assert.equal(answer.code, "FAILURE", `${path} ${body}`);
      }
    }
    assertFailure(
      await wire("/api/v1/application/updateApplicationFromCli", { apiKey: alice.apiKey, applicationName: "x", parameter: 5 }),
      /job_yaml/,
    );
  });
});

describe("clusters through the official client's calls", () => {
  test("a cluster launch (match only, user_check false) runs; every cluster call acts on it", async () => {
    const fileUrl = await uploadPackage("wire_cluster_job", packageZip("echo on the cluster\n", "", {}));
    const registered = await wire(
      "/api/v1/application/updateApplicationFromCli",
      registration("wire_cluster_job", fileUrl, alice.apiKey),
    );
    assert.equal(registered.code, "SUCCESS", registered.message);
    const matched = await wire(
      "/api/v1/application/runApplicationFromCli",
      runCall("wire_cluster_job", alice.apiKey, { clusterName: "wirec" }),
    );
    assert.equal(matched.code, "SUCCESS", matched.message);
    assert.equal(matched.data.user_check, false);
    const runId = matched.data.job_id;
    const job = await waitFor(
      `cluster run ${runId} to end`,
      async () => {
        const j = await jobOf(runId);
        return ["FINISHED", "FAILED", "KILLED"].includes(j.status) ? j : undefined;
      },
      30_000,
      100,
    );
    assert.equal(job.status, "FINISHED");

    const status = async (list: string[], apiKey = alice.apiKey) =>
      wire("/api/v1/cli/getClusterStatus", { clusterNameList: list, apiKey });
    const all = await status([]);
    assert.equal(all.code, "SUCCESS", all.message);
    assert.deepEqual(
      all.data.map((c: { shortName: string }) => c.shortName),
      ["wirec"],
    );
    assert.deepEqual(Object.keys(all.data[0]).sort(), ["id", "shortName", "status"]);
    // A plain string sent as its characters means the whole name.
    assert.deepEqual((await status([..."wirec"])).data, all.data);
    assert.deepEqual((await status([], bob.apiKey)).data, []);

    const confirmed = await wire("/api/v1/cli/confirmClusterMachines", {
      jobId: runId,
      clusterId: all.data[0].id,
      machineSelectedList: [{ gotGpuCount: 1, id: agent.deviceId }],
      apiKey: alice.apiKey,
    });
    assert.equal(confirmed.code, "SUCCESS", confirmed.message);
    assertFailure(
      await wire("/api/v1/cli/confirmClusterMachines", { jobId: runId, clusterId: all.data[0].id, apiKey: bob.apiKey }),
      /no cluster/,
    );

    const autostop = await wire("/api/v1/cli/setAutomaticStopTime", { apiKey: alice.apiKey, clusterName: "wirec", time: 10 });
    assert.equal(autostop.code, "SUCCESS", autostop.message);
    const stopped = await wire("/api/v1/cli/stopCluster", { clusterNameList: ["wirec"], apiKey: alice.apiKey });
    assert.equal(stopped.code, "SUCCESS", stopped.message);
    assert.equal((await status(["wirec"])).data[0].status, "STOPPED");
    const started = await wire("/api/v1/cli/startCluster", { clusterNameList: ["wirec"], apiKey: alice.apiKey });
    assert.equal(started.code, "SUCCESS", started.message);
    assert.notEqual((await status(["wirec"])).data[0].status, "STOPPED");
    const killed = await wire("/api/v1/cli/shutDownCluster", { clusterNameList: [], apiKey: alice.apiKey });
    assert.equal(killed.code, "SUCCESS", killed.message);
    assert.equal((await status(["wirec"])).data[0].status, "TERMINATED");

    // Another user's cluster is unknown; bad input is a FAILURE with a message.
    assertFailure(
      await wire("/api/v1/cli/stopCluster", { clusterNameList: ["wirec"], apiKey: bob.apiKey }),
      /no cluster named wirec/,
    );
    assertFailure(
      await wire("/api/v1/cli/startCluster", { clusterNameList: ["wirec"], apiKey: alice.apiKey }),
      /killed|TERMINATED/,
    );
    assertFailure(
      await wire("/api/v1/cli/getClusterStatus", { clusterNameList: "wirec", apiKey: alice.apiKey }),
      /list of names/,
    );
    assertFailure(
      await wire("/api/v1/cli/setAutomaticStopTime", { apiKey: alice.apiKey, clusterName: "wirec", time: -1 }),
      /time must be/,
    );
    assertFailure(
      await wire("/api/v1/cli/setAutomaticStopTime", { apiKey: alice.apiKey, clusterName: "nope", time: 5 }),
      /no cluster/,
    );
    assertFailure(await wire("/api/v1/cli/confirmClusterMachines", { apiKey: alice.apiKey }), /clusterId is missing/);
    for (const path of [
      "getClusterStatus",
      "startCluster",
      "stopCluster",
      "shutDownCluster",
      "setAutomaticStopTime",
      "confirmClusterMachines",
    ]) {
      assert.equal((await wire(`/api/v1/cli/${path}`, "{oops", true)).code, "FAILURE");
      assert.equal((await wire(`/api/v1/cli/${path}`, { clusterNameList: [] })).code, "FAILURE");
    }
  });
});

/** boto3 is what the official client uploads its package with; skipped where Python lacks it. */
const hasBoto3 = spawnSync("python3", ["-c", "import boto3, requests"], { stdio: "ignore" }).status === 0;

// The client's S3 uploads through the real boto3 (path-style, its default checksums; a single
// PUT and, above 8 MiB, multipart), with the settings configs/fetch hands out; the objects
// then register and launch like any.
const BOTO3_UPLOAD = `
import sys, boto3, requests
from botocore.config import Config
base, path, key = sys.argv[1], sys.argv[2], sys.argv[3]
cfg = requests.post(base + "/fedmlOpsServer/configs/fetch", json={"config_name": ["s3_config"], "device_send_time": 1}).json()["data"]["s3_config"]
s3 = boto3.client("s3", region_name=cfg["CN_REGION_NAME"], aws_access_key_id=cfg["CN_S3_AKI"],
                  aws_secret_access_key=cfg["CN_S3_SAK"], endpoint_url=cfg["CN_S3_ENDPOINT"],
                  config=Config(s3={"addressing_style": "path"}))
s3.upload_file(path, cfg["BUCKET_NAME"], key, ExtraArgs={"ACL": "public-read"})
print(s3.generate_presigned_url("get_object", Params={"Bucket": cfg["BUCKET_NAME"], "Key": key}, ExpiresIn=3600))
`;

describe("the package uploaded by boto3 itself", { skip: hasBoto3 ? false : "python3 has no boto3" }, () => {
  test("a single PUT and a 12 MiB multipart upload round-trip; the package registers and runs to FINISHED", async () => {
    const script = join(tmp.dir, "boto3_upload.py");
    writeFileSync(script, BOTO3_UPLOAD);
    const upload = async (name: string, bytes: Buffer) => {
      const file = join(tmp.dir, `${name}.zip`);
      writeFileSync(file, bytes);
      const { stdout } = await promisify(execFile)("python3", [script, server.url, file, `${name}@${randomUUID()}`]);
      const url = stdout.trim();
      assert.deepEqual(Buffer.from(await (await fetch(url)).arrayBuffer()), bytes);
      return url;
    };
    const big = Buffer.alloc(12 * 1024 * 1024, 7);
    await upload("big", big);
    const fileUrl = await upload("boto_job", packageZip("echo uploaded by boto3\n", "", {}));
    const registered = await wire(
      "/api/v1/application/updateApplicationFromCli",
      registration("boto_job", fileUrl, alice.apiKey),
    );
    assert.equal(registered.code, "SUCCESS", registered.message);
    const matched = await wire("/api/v1/application/runApplicationFromCli", runCall("boto_job", alice.apiKey));
    const runId = matched.data.job_id;
    await wire(
      "/api/v1/application/runApplicationFromCli",
      runCall("boto_job", alice.apiKey, { needConfirmation: false, jobId: runId }),
    );
    assert.equal((await jobAtEnd(runId)).status, "FINISHED");
    const logs = await api.runLogs(runId, 1, 100, { needAllLogs: true, ...alice });
    assert.deepEqual(logs.logLineList, ["uploaded by boto3"]);
  });
});

describe("the S3 multipart upload the client uses above 8 MiB", () => {
  test("initiate, parts (out of order), complete: the object is the joined parts and registers", async () => {
    const zip = packageZip("echo multipart\n", "", { "weights.bin": "w".repeat(300_000) });
    const s3 = await s3Config();
    const objectUrl = `${s3.CN_S3_ENDPOINT}/${s3.BUCKET_NAME}/multi%40${randomUUID()}`;
    const begun = await fetch(`${objectUrl}?uploads`, { method: "POST" });
    assert.equal(begun.status, 200);
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await begun.text())?.[1];
    assert.ok(uploadId);
    const third = Math.ceil(zip.length / 3);
    const parts = [zip.subarray(0, third), zip.subarray(third, 2 * third), zip.subarray(2 * third)];
    const etags: string[] = [];
    for (const n of [3, 1, 2]) {
      const put = await fetch(`${objectUrl}?partNumber=${n}&uploadId=${uploadId}`, { method: "PUT", body: parts[n - 1] });
      assert.equal(put.status, 200);
      etags[n - 1] = put.headers.get("etag") ?? "";
    }
    const list = etags.map((e, i) => `<Part><ETag>${e}</ETag><PartNumber>${i + 1}</PartNumber></Part>`).join("");
    const completed = await fetch(`${objectUrl}?uploadId=${uploadId}`, {
      method: "POST",
      body: `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${list}</CompleteMultipartUpload>`,
    });
    assert.equal(completed.status, 200);
    assert.match(await completed.text(), /<CompleteMultipartUploadResult/);
    const got = await fetch(objectUrl);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), zip);
    const registered = await wire(
      "/api/v1/application/updateApplicationFromCli",
      registration("multi", `${objectUrl}?X-Amz-Signature=1`, alice.apiKey),
    );
    assert.equal(registered.code, "SUCCESS", registered.message);

    // Newer boto3: an aws-chunked body with a trailing checksum.
    const chunkedUrl = `${s3.CN_S3_ENDPOINT}/${s3.BUCKET_NAME}/chunked%40${randomUUID()}`;
    const chunked = await fetch(chunkedUrl, {
      method: "PUT",
      headers: { "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "content-encoding": "aws-chunked" },
      body: "4\r\nzip!\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n",
    });
    assert.equal(chunked.status, 200);
    assert.equal(await (await fetch(chunkedUrl)).text(), "zip!");
    const broken = await fetch(chunkedUrl, { method: "PUT", headers: { "content-encoding": "aws-chunked" }, body: "9\r\nzip" });
    assert.equal(broken.status, 400);

    const unknown = await fetch(`${objectUrl}?partNumber=1&uploadId=nope`, { method: "PUT", body: "x" });
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /<Code>InvalidRequest<\/Code>.*no such upload/s);
    const again = await fetch(`${objectUrl}?uploadId=${uploadId}`, { method: "POST", body: "<CompleteMultipartUpload/>" });
    assert.equal(again.status, 400);
  });
});

describe("a federated job through the official client's calls", () => {
  test("client and server packages register; the run places a server and an edge and FINISHES", async () => {
    const second = await startAgent(server.url, alice.apiKey, join(tmp.dir, "agent-b"), ["--name", "box-b"]);
    try {
      const files = { "fl.py": 'import os; print("rank", os.environ["FEDML_CLIENT_RANK"])\n' };
      const clientUrl = await uploadPackage("wire_fl", packageZip("python3 fl.py\n", "", files));
      const serverUrl = await uploadPackage("wire_fl", packageZip("echo aggregating\n", "", files, "server"));
      const body = registration("wire_fl", clientUrl, alice.apiKey);
      body.parameter.job_yaml = {
        workspace: "src",
        job: "python3 fl.py",
        server_job: "echo aggregating",
        job_type: "federate",
        job_name: "wire_fl",
        computing: { num_edges: 1 },
      };
      body.fileList[0].fileUrl = serverUrl;
      body.fileList[0].fileName = "server-package.zip";
      body.jobType = 3;
      const registered = await wire("/api/v1/application/updateApplicationFromCli", body);
      assert.equal(registered.code, "SUCCESS", registered.message);
      const matched = await wire(
        "/api/v1/application/runApplicationFromCli",
        runCall("wire_fl", alice.apiKey, { platformType: "octopus" }),
      );
      assert.equal(matched.code, "SUCCESS", matched.message);
      const runId = matched.data.job_id;
      assert.equal(matched.data.gpu_matched.length, 2);
      const started = await wire(
        "/api/v1/application/runApplicationFromCli",
        runCall("wire_fl", alice.apiKey, { platformType: "octopus", needConfirmation: false, jobId: runId }),
      );
      assert.equal(started.code, "SUCCESS", started.message);
      const job = await waitFor(
        `federated run ${runId} to end`,
        async () => {
          const j = await jobOf(runId, alice.apiKey, "octopus");
          return ["FINISHED", "FAILED", "KILLED"].includes(j.status) ? j : undefined;
        },
        30_000,
        100,
      );
      assert.equal(job.status, "FINISHED");
      assert.equal(job.gpuMachines.length, 2);
      const logs = await api.runLogs(runId, 1, 100, { needAllLogs: true, ...alice });
      assert.ok(logs.logLineList.includes("aggregating"), logs.logLineList.join("|"));
      assert.ok(
        logs.logLineList.some((l) => /^rank \d+$/.test(l)),
        logs.logLineList.join("|"),
      );

      // A server_job without its server package is refused at registration.
      const lone = await uploadPackage("wire_fl2", packageZip("echo x\n", "", {}));
      const missing = registration("wire_fl2", lone, alice.apiKey);
      missing.parameter.job_yaml = { ...missing.parameter.job_yaml, server_job: "echo s", job_type: "federate" };
      assertFailure(await wire("/api/v1/application/updateApplicationFromCli", missing), /no server package/);
    } finally {
      await second.stop();
    }
  });
});
