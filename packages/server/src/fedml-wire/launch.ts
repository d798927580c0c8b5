import { FedmlError, type LaunchResult, ResultCode, RunStatus, isTerminalRunStatus } from "@fedml/core";
import { parse as parseYaml, stringify } from "yaml";
import type { ServerContext } from "../context.js";
import { abandonHeldRuns, startHeldRun } from "../runs/held.js";
import { holdRun } from "../runs/launch.js";
import { ownedRun } from "../runs/lookup.js";
import type { PlacedNode } from "../scheduler/matcher.js";
import { devicesById } from "../store/devices.js";
import { decodeGpus } from "../store/json-columns.js";
import { findRun } from "../store/runs.js";
import type { UserRow } from "../store/users.js";
import { useWorkspace } from "../workspaces/access.js";
import { type WireBody, text } from "./body.js";
import type { WireObjects } from "./object-store.js";
import { readPackage, storePackageWorkspace } from "./package.js";
import { type Registration, byAppId, byName, findRegistration, saveRegistration } from "./registrations.js";
import { WIRE_BUCKET } from "./s3-routes.js";

/** How long a matched run waits for the client's start call before it is ABANDONED. */
export const MATCH_HOLD_MS = 30 * 60 * 1000;

function appUpdateFailed(message: string): FedmlError {
  return new FedmlError(ResultCode.APP_UPDATE_FAILED, message, 400);
}

/** The object key a registered fileUrl names, if it names one of ours (path-style). */
export function objectKeyOf(fileUrl: string): string | null {
  let path: string;
  try {
    path = new URL(fileUrl).pathname;
  } catch {
    return null;
  }
  const prefix = `/${WIRE_BUCKET}/`;
  if (!path.startsWith(prefix)) return null;
  try {
    return decodeURIComponent(path.slice(prefix.length)) || null;
  } catch {
    return null;
  }
}

/** The job YAML the run is launched with: the registered YAML, its job and bootstrap from the package. Pure. */
export function wireJobYaml(
  jobYaml: Record<string, unknown>,
  pkg: { job: string; bootstrap: string | null; extraKeys: Record<string, unknown>; serverJob?: string | null },
): string {
  const { bootstrap: _b, workspace: _w, job: _j, server_job: _s, ...extra } = pkg.extraKeys;
  const { workspace: _w2, job: _j2, bootstrap: _b2, server_job: _s2, ...registered } = jobYaml;
  const doc: Record<string, unknown> = { ...extra, ...registered, workspace: "fedml", job: pkg.job };
  if (pkg.serverJob) doc.server_job = pkg.serverJob;
  if (pkg.bootstrap) doc.bootstrap = pkg.bootstrap;
  return stringify(doc);
}

/** updateApplicationFromCli: claims the uploaded package, makes it a workspace, checks the YAML. */
export async function registerApplication(
  ctx: ServerContext,
  objects: WireObjects,
  user: UserRow,
  body: WireBody,
): Promise<void> {
  const app = text(body, "applicationName", { max: 256 });
  if (!app) throw appUpdateFailed("applicationName is empty");
  const parameter = body.parameter as { job_yaml?: unknown } | undefined;
  const jobYaml = parameter?.job_yaml;
  if (!jobYaml || typeof jobYaml !== "object" || Array.isArray(jobYaml)) throw appUpdateFailed("parameter.job_yaml is missing");
  const files = Array.isArray(body.fileList) ? (body.fileList as { type?: unknown; fileUrl?: unknown }[]) : [];
  const urlOf = (type: number) => {
    const file = files.find((f) => f && typeof f === "object" && f.type === type);
    return typeof file?.fileUrl === "string" ? file.fileUrl : "";
  };
  const claim = async (side: "client" | "server", url: string) => {
    const key = objectKeyOf(url);
    const zip = key ? await objects.take(key) : undefined;
    if (!zip)
      throw appUpdateFailed(`the ${side} package ${url.split("?")[0]} is not held by this server (expired or never uploaded)`);
    return readPackage(zip, side, ctx.options.maxWorkspaceBytes);
  };
  const clientUrl = urlOf(2);
  // The client swallows its upload errors and registers an empty URL.
  if (!clientUrl) throw appUpdateFailed("no client package was uploaded (fileList has no fileUrl of type 2)");
  const pkg = await claim("client", clientUrl);
  // A federated job's server package carries its server_job (the YAML has server_job).
  const serverUrl = urlOf(1);
  if (!serverUrl && (jobYaml as Record<string, unknown>).server_job) {
    throw appUpdateFailed("the job has server_job but no server package was uploaded (fileList has no fileUrl of type 1)");
  }
  const serverJob = serverUrl ? (await claim("server", serverUrl)).job : null;
  const yamlText = wireJobYaml(jobYaml as Record<string, unknown>, { ...pkg, serverJob });
  // Refuse here: a failure at runApplicationFromCli would read as launched to the client.
  await ctx.jobYaml.parse(yamlText, { path: `${app}.yaml` });
  const workspaceSha256 = await storePackageWorkspace(ctx, user, pkg);
  await saveRegistration(ctx.db, user.id, [byName(app)], { yamlText, workspaceSha256, workspaceName: app }, ctx.now());
}

/** The YAML of a relaunch of `base` with a new config: the config's keys over the base's, its workspace kept. Pure. */
export function configJobYaml(baseYaml: string, jobYaml: Record<string, unknown>): string {
  const base = (parseYaml(baseYaml) ?? {}) as Record<string, unknown>;
  const { workspace: _w, ...config } = jobYaml;
  const doc: Record<string, unknown> = { ...base, ...config };
  if (base.workspace === undefined) delete doc.workspace;
  else doc.workspace = base.workspace;
  return stringify(doc);
}

/**
 * updateApplicationConfigFromCli: a YAML whose job_args name a job_id (and maybe a config_id)
 * uploads no package; it registers a new config of an application that exists already. Here
 * that application is one of the caller's earlier runs (its id, as `fedml run list` shows it):
 * its workspace is reused, and the config's YAML (job, bootstrap, computing, other keys)
 * replaces the run's. The match call then names it by applicationId (and applicationConfigId).
 */
export async function registerApplicationConfig(ctx: ServerContext, user: UserRow, body: WireBody): Promise<void> {
  const appId = text(body, "applicationId", { max: 64 });
  if (!appId) throw appUpdateFailed("applicationId is empty");
  const configId = text(body, "applicationConfigId", { optional: true, max: 64 }) || null;
  const config = body.applicationConfig as { job_yaml?: unknown } | undefined;
  const jobYaml = config && typeof config === "object" ? config.job_yaml : undefined;
  if (!jobYaml || typeof jobYaml !== "object" || Array.isArray(jobYaml))
    throw appUpdateFailed("applicationConfig.job_yaml is missing");
  // Another user's run answers exactly like a missing one.
  const base = await ownedRun(ctx, user.id, appId).catch(() => {
    throw appUpdateFailed(`application ${appId} not found: job_args.job_id names one of your runs`);
  });
  const sha = base.workspace_sha256;
  if (sha && !(await useWorkspace(ctx.db, sha, user.id, ctx.now())))
    throw appUpdateFailed(`the workspace of run ${appId} is no longer held by this server: launch it with its folder`);
  const yamlText = configJobYaml(base.yaml_text, jobYaml as Record<string, unknown>);
  await ctx.jobYaml.parse(yamlText, { path: `job-${appId}.yaml` });
  const reg: Registration = { yamlText, workspaceSha256: sha, workspaceName: base.name };
  const keys = configId ? [byAppId(appId, null), byAppId(appId, configId)] : [byAppId(appId, null)];
  await saveRegistration(ctx.db, user.id, keys, reg, ctx.now());
}

/** The data runApplicationFromCli answers, from the run it launched or found. */
export function wireLaunchData(
  ctx: ServerContext,
  result: LaunchResult,
  name: string,
  clusterName: string,
  extra: { status?: string; gpuMatched?: WireGpu[] } = {},
) {
  const ok = result.runId !== null;
  return {
    job_id: result.runId ?? "",
    job_name: name,
    project_id: result.projectId ?? "",
    // LAUNCHED reads as MATCHED to the client, which then sends the start call; QUEUED makes
    // it stop there (the server starts a queued run itself).
    status: extra.status ?? (ok ? "LAUNCHED" : "FAILED"),
    // An empty job_url is the only failure the client reads as one (code 11).
    job_url: ok ? `${ctx.publicUrl()}/runs/${result.runId}` : "",
    message: result.resultMsg,
    gpu_matched: extra.gpuMatched ?? [],
    // false: the client returns MATCHED and the server starts the run itself (its confirm path crashes).
    user_check: false,
    cluster_id: clusterName,
    server_agent_id: "",
    started_time: "",
  };
}

/** One matched device as the client shows it before it asks to start. */
export interface WireGpu {
  id: string;
  gpu_vendor: string;
  total_gpu_count: number;
  gpu_type: string;
  cost: number;
  gpu_mem: number;
  gpu_region: string;
  cpu_count: number;
  got_gpu_count: number;
  gpu_name: string;
  gpu_provider: string;
}

async function wireGpus(ctx: ServerContext, nodes: readonly PlacedNode[]): Promise<WireGpu[]> {
  const devices = await devicesById(
    ctx.db,
    nodes.map((n) => Number(n.deviceId)),
  );
  return nodes.map((n) => {
    const device = devices.get(Number(n.deviceId));
    const gpus = device ? decodeGpus(device.gpus_json) : [];
    const first = gpus.find((g) => g.index === n.gpuIndices[0]) ?? gpus[0];
    const gpuName = first?.name ?? "";
    return {
      id: n.deviceId,
      gpu_vendor: gpuName ? (/nvidia|geforce|tesla|rtx|a100|h100|h200/i.test(gpuName) ? "NVIDIA" : gpuName.split(/\s+/)[0]) : "",
      total_gpu_count: gpus.length,
      gpu_type: gpuName,
      cost: (n.pricePerGpuHour * n.gpuIndices.length) / 1_000_000,
      gpu_mem: Math.round(((first?.memoryMiB ?? 0) / 1024) * 10) / 10,
      gpu_region: device?.region ?? "",
      cpu_count: device?.cpu_count ?? 0,
      got_gpu_count: n.gpuIndices.length,
      gpu_name: gpuName,
      gpu_provider: device?.provider ?? "",
    };
  });
}

/** The registration a run call names: by applicationId (and config id) when it has one, else by name. */
async function registrationOf(ctx: ServerContext, user: UserRow, body: WireBody, app: string): Promise<Registration> {
  const appId = text(body, "applicationId", { optional: true, max: 64 });
  const configId = text(body, "applicationConfigId", { optional: true, max: 64 }) || null;
  const reg = appId
    ? ((configId ? await findRegistration(ctx.db, user.id, byAppId(appId, configId)) : undefined) ??
      (await findRegistration(ctx.db, user.id, byAppId(appId, null))))
    : await findRegistration(ctx.db, user.id, byName(app));
  if (!reg) {
    const what = appId
      ? `application ${appId} has no config registered (updateApplicationConfigFromCli)`
      : `application ${app} was not registered (updateApplicationFromCli)`;
    throw new FedmlError(ResultCode.JOB_CONFIG_NOT_EXISTS, what, 400);
  }
  return reg;
}

/**
 * runApplicationFromCli, in the original's two phases. The match call (needConfirmation
 * true) finds resources without starting: a run that fits now is stored NOT_STARTED and
 * answered LAUNCHED with the devices it matched; one that must wait is queued and answered
 * QUEUED (the client sends no start call then). The start call (needConfirmation false,
 * jobId) starts the held run. A cluster launch sends no start call (user_check false): it
 * starts at the match. A held run whose start never comes is ABANDONED after MATCH_HOLD_MS.
 */
export async function runApplication(ctx: ServerContext, user: UserRow, body: WireBody) {
  const app = text(body, "applicationName", { max: 256 });
  const clusterName = text(body, "clusterName", { optional: true, max: 64 });
  const jobId = text(body, "jobId", { optional: true, max: 64 });
  if (body.needConfirmation === false && jobId) return startApplication(ctx, user, jobId, clusterName);
  await abandonHeldRuns(ctx, MATCH_HOLD_MS);
  const reg = await registrationOf(ctx, user, body, app);
  const { result, matched } = await holdRun(ctx, user, {
    yamlText: reg.yamlText,
    workspaceSha256: reg.workspaceSha256,
    workspaceName: reg.workspaceName,
    cluster: clusterName || null,
  });
  if (result.runId === null || clusterName) return wireLaunchData(ctx, result, app, clusterName);
  const status = matched.length > 0 ? "LAUNCHED" : RunStatus.QUEUED;
  return wireLaunchData(ctx, result, app, clusterName, { status, gpuMatched: await wireGpus(ctx, matched) });
}

async function startApplication(ctx: ServerContext, user: UserRow, jobId: string, clusterName: string) {
  const held = await ownedRun(ctx, user.id, jobId);
  if (held.status === RunStatus.NOT_STARTED) await startHeldRun(ctx, held.id);
  const run = (await findRun(ctx.db, held.id)) ?? held;
  if (run.status === RunStatus.ABANDONED || (isTerminalRunStatus(run.status) && run.started_at === null)) {
    // Too late: an empty job_url is the failure the client reports.
    return wireLaunchData(
      ctx,
      {
        resultCode: ResultCode.LAUNCH_JOB_STATUS_REQUEST_FAILED,
        resultMsg: `run ${run.id} was never started: it is ${run.status}`,
        runId: null,
        projectId: null,
        innerId: null,
      },
      run.name,
      clusterName,
    );
  }
  return wireLaunchData(
    ctx,
    {
      resultCode: 0,
      resultMsg: "LAUNCH_REQUEST_SUCCESS",
      runId: String(run.id),
      projectId: String(run.project_id),
      innerId: null,
    },
    run.name,
    clusterName,
  );
}
