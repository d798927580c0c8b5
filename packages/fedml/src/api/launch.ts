import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import {
  FedmlError,
  type LaunchRequest,
  type LaunchResult,
  maxWorkspaceBytesFromEnv,
  Paths,
  readJobYaml,
  ResultCode,
  ResultMessage,
} from "@fedml/core";
import { fedmlHome } from "../config.js";
import { type Endpoint, oneLine, request } from "../http.js";
import { type PackedArchive, packOrReuse } from "../workspace/pack-cache.js";
import type { WorkspaceProgress } from "../workspace/progress.js";
import { uploadWorkspace } from "../workspace/upload.js";
import { type ApiOptions, resolveEndpoint } from "./connection.js";

export interface LaunchOptions extends ApiOptions {
  /** Specific `resource_id` (device id) to use; normally resources are matched from the job YAML. */
  resourceId?: string | null;
  /** `device_server` to use: only for a federated learning job with specific server and edges. */
  deviceServer?: string | null;
  /** List of `device_edges` to use: only for a federated learning job with specific server and edges. */
  deviceEdges?: string[] | null;
  /** Ours: packing and upload progress (the CLI draws it when stdout is a terminal). */
  onProgress?: (progress: WorkspaceProgress) => void;
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
  try {
    const yamlPath = resolve(yamlFile);
    const { text, spec, yamlDir } = await readJobYaml(yamlPath);
    let workspace: { dir: string; archive: PackedArchive } | null = null;
    if (spec.workspace !== null) {
      const dir = resolve(yamlDir, spec.workspace);
      await assertDirectory(dir, spec.workspace, yamlPath);
      workspace = { dir, archive: await pack(dir, options.onProgress) };
    }
    const endpoint = await resolveEndpoint(options);
    if (workspace) await upload(endpoint, workspace.archive, options.onProgress);
    const body: LaunchRequest = {
      yamlText: text,
      yamlPath,
      workspaceName: workspace ? basename(workspace.dir) : null,
      workspaceSha256: workspace?.archive.sha256 ?? null,
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
  }
}

/** Packs the folder, or reuses its archive from the last launch when nothing in it changed. */
async function pack(dir: string, onProgress?: (p: WorkspaceProgress) => void): Promise<PackedArchive> {
  const started = Date.now();
  const archive = await packOrReuse(dir, fedmlHome(), maxWorkspaceBytesFromEnv(), (bytes, total) =>
    onProgress?.({ kind: "pack", bytes, total }),
  );
  onProgress?.({ kind: "packed", bytes: archive.size, ms: Date.now() - started, reused: archive.reused });
  return archive;
}

/** Content-addressed and resumable: a workspace the server holds for this user is not sent again. */
async function upload(endpoint: Endpoint, archive: PackedArchive, onProgress?: (p: WorkspaceProgress) => void): Promise<void> {
  const started = Date.now();
  const result = await uploadWorkspace(endpoint, archive, {
    onProgress: (p) => onProgress?.({ kind: "upload", ...p }),
  });
  onProgress?.({
    kind: "uploaded",
    sent: result.sent,
    total: archive.size,
    ms: Date.now() - started,
    from: result.from,
    present: result.present,
  });
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
