import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import {
  FedmlError,
  type LaunchRequest,
  type LaunchResult,
  maxWorkspaceBytesFromEnv,
  packWorkspace,
  Paths,
  readJobYaml,
  ResultCode,
  ResultMessage,
} from "@fedml/core";
import { type Endpoint, request, send, errorFromResponse, oneLine } from "../http.js";
import { type ApiOptions, resolveEndpoint } from "./connection.js";

export interface LaunchOptions extends ApiOptions {
  /** Specific `resource_id` (device id) to use; normally resources are matched from the job YAML. */
  resourceId?: string | null;
  /** `device_server` to use: only for a federated learning job with specific server and edges. */
  deviceServer?: string | null;
  /** List of `device_edges` to use: only for a federated learning job with specific server and edges. */
  deviceEdges?: string[] | null;
}

/**
 * Launch a job on the FedML AI Nexus platform.
 *
 * ```py
 * fedml.api.launch_job(yaml_file, api_key=None, resource_id=None, device_server=None, device_edges=None)
 * ```
 *
 * @param yamlFile Full path of your job yaml file.
 * @returns `LaunchResult`: `resultCode` (0 means success), `resultMsg`, `runId` of the launched
 *   job, `projectId` (default assigned if not in the YAML), `innerId` (serving endpoint id for
 *   deploy / serve jobs, else null). Every failure is returned here (runId null), never thrown.
 */
export async function launchJob(yamlFile: string, options: LaunchOptions = {}): Promise<LaunchResult> {
  return launch(yamlFile, null, options);
}

/**
 * Launch a job on a cluster on the FedML AI Nexus platform.
 *
 * ```py
 * fedml.api.launch_job_on_cluster(yaml_file, cluster, api_key=None, resource_id=None, device_server=None, device_edges=None)
 * ```
 *
 * @param yamlFile Full path of your job yaml file.
 * @param cluster Cluster name to use. If a cluster with provided name doesn't exist, one will be created.
 * @returns `LaunchResult`, as `launchJob`.
 */
export async function launchJobOnCluster(yamlFile: string, cluster: string, options: LaunchOptions = {}): Promise<LaunchResult> {
  return launch(yamlFile, cluster, options);
}

async function launch(yamlFile: string, cluster: string | null, options: LaunchOptions): Promise<LaunchResult> {
  let tempDir: string | null = null;
  try {
    const yamlPath = resolve(yamlFile);
    const { text, spec, yamlDir } = await readJobYaml(yamlPath);
    let workspace: { dir: string; packed: { file: string; sha256: string } } | null = null;
    if (spec.workspace !== null) {
      const dir = resolve(yamlDir, spec.workspace);
      await assertDirectory(dir, spec.workspace, yamlPath);
      tempDir = await mkdtemp(join(tmpdir(), "fedml-launch-"));
      const packed = await packWorkspace(dir, {
        maxBytes: maxWorkspaceBytesFromEnv(),
        outFile: join(tempDir, "workspace.tar.gz"),
      });
      workspace = { dir, packed };
    }
    const endpoint = await resolveEndpoint(options);
    if (workspace) await uploadUnlessPresent(endpoint, workspace.packed);
    const body: LaunchRequest = {
      yamlText: text,
      yamlPath,
      workspaceName: workspace ? basename(workspace.dir) : null,
      workspaceSha256: workspace?.packed.sha256 ?? null,
      resourceId: options.resourceId ?? null,
      deviceServer: options.deviceServer ?? null,
      deviceEdges: options.deviceEdges ?? null,
      cluster,
    };
    return await request<LaunchResult>("POST", Paths.runs, endpoint, {
      body,
      unreachableCode: ResultCode.LAUNCH_JOB_STATUS_REQUEST_FAILED,
    });
  } catch (err) {
    return failedLaunch(err);
  } finally {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

async function assertDirectory(dir: string, asWritten: string, yamlPath: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) {
    throw new FedmlError(
      ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR,
      `workspace ${asWritten} (${dir}) named in ${yamlPath} is ${info ? "not a folder" : "not found"}`,
    );
  }
}

/** Content-addressed: a workspace the server already holds is not sent again. */
async function uploadUnlessPresent(endpoint: Endpoint, packed: { file: string; sha256: string }): Promise<void> {
  const path = Paths.workspace(packed.sha256);
  const unreachableCode = ResultCode.LAUNCH_JOB_STATUS_REQUEST_FAILED;
  const head = await send("HEAD", path, endpoint, { unreachableCode });
  if (head.ok) return;
  if (head.status === 401 || head.status === 403) {
    // A HEAD answer has no body to carry the server's message.
    throw new FedmlError(
      ResultCode.ERROR,
      `the FedML server at ${endpoint.serverUrl} rejected the API key (HTTP ${head.status})`,
    );
  }
  if (head.status !== 404) throw await errorFromResponse("HEAD", path, head);
  const bytes = await readFile(packed.file);
  await request("PUT", path, endpoint, { body: bytes, contentType: "application/gzip", unreachableCode });
}

function failedLaunch(err: unknown): LaunchResult {
  const code = err instanceof FedmlError ? err.resultCode : ResultCode.LAUNCH_JOB_STATUS_REQUEST_FAILED;
  const message = err instanceof Error ? err.message : String(err);
  return {
    resultCode: code === ResultCode.LAUNCH_JOB_STATUS_REQUEST_SUCCESS ? ResultCode.LAUNCH_JOB_STATUS_REQUEST_FAILED : code,
    resultMsg: oneLine(message) || (ResultMessage[code] ?? "LAUNCH_REQUEST_FAILED"),
    runId: null,
    projectId: null,
    innerId: null,
  };
}
