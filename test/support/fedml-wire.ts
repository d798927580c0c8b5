/**
 * The official FedML client's calls, shaped as the wire-protocol reference describes them
 * (shared by the conformance tests on one server and across replicas).
 */
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { strToU8, zipSync } from "fflate";

export interface Envelope {
  code: string;
  message: string;
  // biome-ignore lint/suspicious/noExplicitAny: the envelope's data is whatever each call answers
  data: any;
}

/** One POST under /fedmlOpsServer of the server at `baseUrl`; checks the envelope's shape. */
export async function wireAt(baseUrl: string, path: string, body: unknown, raw = false): Promise<Envelope> {
  const res = await fetch(`${baseUrl}/fedmlOpsServer${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: raw ? (body as string) : JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${path} answered HTTP ${res.status}`);
  const envelope = (await res.json()) as Envelope;
  assert.deepEqual(Object.keys(envelope).slice(0, 3).sort(), ["code", "data", "message"]);
  assert.ok(envelope.code === "SUCCESS" || envelope.code === "FAILURE");
  return envelope;
}

/** The package zip the client builds: the workspace under <side>-package/fedml/, its scripts and config. */
export function packageZip(job: string, bootstrap: string, files: Record<string, string>, side = "client"): Buffer {
  const root = `${side}-package/fedml/`;
  const entries: Record<string, Uint8Array> = {};
  for (const [name, body] of Object.entries(files)) entries[`${root}${name}`] = strToU8(body);
  entries[`${root}fedml_job_entry_pack.sh`] = strToU8(job);
  entries[`${root}fedml_bootstrap_generated.sh`] = strToU8(bootstrap);
  entries[`${root}fedml_job_entry_pack.bat`] = strToU8("rem windows twin\r\n");
  entries[`${root}config/fedml_config.yaml`] = strToU8(
    "bootstrap: fedml_bootstrap_generated.sh\ndata_args:\n  dataset_name: mnist\n",
  );
  entries[`${side}-package/conf/fedml.yaml`] = strToU8("entry_config:\n  entry_file: fedml/fedml_job_entry_pack.sh\n");
  return Buffer.from(zipSync(entries));
}

export async function s3ConfigAt(baseUrl: string) {
  const fetched = await wireAt(baseUrl, "/configs/fetch", {
    config_name: ["mqtt_config", "s3_config", "docker_config", "ml_ops_config"],
    device_send_time: Date.now(),
  });
  assert.equal(fetched.code, "SUCCESS");
  assert.deepEqual(Object.keys(fetched.data.s3_config).sort(), [
    "BUCKET_NAME",
    "CN_REGION_NAME",
    "CN_S3_AKI",
    "CN_S3_ENDPOINT",
    "CN_S3_SAK",
  ]);
  assert.deepEqual(fetched.data.ml_ops_config, {});
  return fetched.data.s3_config as { BUCKET_NAME: string; CN_S3_ENDPOINT: string };
}

/** The single S3 PUT of a package; answers the presigned GET URL the client registers. */
export async function uploadPackageAt(baseUrl: string, name: string, zip: Buffer): Promise<string> {
  const s3 = await s3ConfigAt(baseUrl);
  const objectUrl = `${s3.CN_S3_ENDPOINT}/${s3.BUCKET_NAME}/${name}%40${randomUUID()}`;
  const put = await fetch(objectUrl, {
    method: "PUT",
    headers: {
      "x-amz-acl": "public-read",
      "Content-MD5": createHash("md5").update(zip).digest("base64"),
      "X-Amz-Content-SHA256": createHash("sha256").update(zip).digest("hex"),
      Authorization:
        "AWS4-HMAC-SHA256 Credential=fedml-wire/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00",
    },
    body: zip,
  });
  assert.equal(put.status, 200, await put.text());
  assert.ok(put.headers.get("etag"));
  // The presigned GET URL the client computes locally and registers.
  const presigned = `${objectUrl}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc`;
  const got = await fetch(presigned);
  assert.equal(got.status, 200);
  assert.deepEqual(Buffer.from(await got.arrayBuffer()), zip);
  return presigned;
}

/** updateApplicationFromCli's body. */
export function registration(name: string, fileUrl: string, apiKey: string) {
  const jobYaml: Record<string, unknown> = {
    workspace: "src",
    job: "unused: the package's entry script runs",
    job_type: "train",
    job_name: name,
  };
  return {
    applicationName: name,
    platformId: 5,
    parameter: {
      environment_args: { bootstrap: "fedml_bootstrap_generated.sh" },
      job_yaml: jobYaml,
    },
    fileList: [
      { fileName: "", fileDescribe: "", fileUrl: "", isFolder: 0, type: 1 },
      { fileName: "client-package.zip", fileDescribe: "", fileUrl, isFolder: 0, type: 2 },
    ],
    applicationConfigList: [],
    apiKey,
    jobType: 1,
    jobSubType: 1,
  };
}

/** runApplicationFromCli's body: the match call; the start call adds needConfirmation false and jobId. */
export function runCall(name: string, apiKey: string, extra: Record<string, unknown> = {}) {
  return {
    platformType: "falcon",
    name: "",
    applicationName: name,
    devices: [{ account: "", edgeIds: [], serverId: 0 }],
    urls: [],
    apiKey,
    needConfirmation: true,
    projectName: "",
    jobType: "train",
    featureEntryPoint: 11,
    ...extra,
  };
}
