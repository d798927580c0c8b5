import { FedmlError, type LaunchResult, ResultCode } from "@fedml/core";
import { stringify } from "yaml";
import type { ServerContext } from "../context.js";
import { launchRun } from "../runs/launch.js";
import { ownedRun } from "../runs/lookup.js";
import type { UserRow } from "../store/users.js";
import { type WireBody, text } from "./body.js";
import type { WireObjects } from "./object-store.js";
import { readPackage, storePackageWorkspace } from "./package.js";
import { WIRE_BUCKET } from "./s3-routes.js";

/** A registered application: what the run calls, which carry neither YAML nor package, launch. */
export interface Registration {
  yamlText: string;
  workspaceSha256: string;
  workspaceName: string;
}

/**
 * The latest registration per (user, applicationName). In this process's memory, like the
 * unclaimed uploads: the two calls of one launch must reach the same replica.
 */
export class Registrations {
  private readonly byKey = new Map<string, Registration>();
  private static key(userId: number, app: string) {
    return `${userId}\n${app}`;
  }
  set(userId: number, app: string, reg: Registration) {
    // Bounded: the oldest registration goes first.
    if (this.byKey.size >= 10_000) this.byKey.delete(this.byKey.keys().next().value as string);
    this.byKey.delete(Registrations.key(userId, app));
    this.byKey.set(Registrations.key(userId, app), reg);
  }
  get(userId: number, app: string): Registration | undefined {
    return this.byKey.get(Registrations.key(userId, app));
  }
}

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
  registrations: Registrations,
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
  const claim = (side: "client" | "server", url: string) => {
    const key = objectKeyOf(url);
    const zip = key ? objects.take(key) : undefined;
    if (!zip)
      throw appUpdateFailed(`the ${side} package ${url.split("?")[0]} is not held by this server (expired or never uploaded)`);
    return readPackage(zip, side, ctx.options.maxWorkspaceBytes);
  };
  const clientUrl = urlOf(2);
  // The client swallows its upload errors and registers an empty URL.
  if (!clientUrl) throw appUpdateFailed("no client package was uploaded (fileList has no fileUrl of type 2)");
  const pkg = claim("client", clientUrl);
  // A federated job's server package carries its server_job (the YAML has server_job).
  const serverUrl = urlOf(1);
  if (!serverUrl && (jobYaml as Record<string, unknown>).server_job) {
    throw appUpdateFailed("the job has server_job but no server package was uploaded (fileList has no fileUrl of type 1)");
  }
  const serverJob = serverUrl ? claim("server", serverUrl).job : null;
  const yamlText = wireJobYaml(jobYaml as Record<string, unknown>, { ...pkg, serverJob });
  // Refuse here: a failure at runApplicationFromCli would read as launched to the client.
  await ctx.jobYaml.parse(yamlText, { path: `${app}.yaml` });
  const workspaceSha256 = await storePackageWorkspace(ctx, user, pkg);
  registrations.set(user.id, app, { yamlText, workspaceSha256, workspaceName: app });
}

/** The data runApplicationFromCli answers, from the run it launched or found. */
export function wireLaunchData(ctx: ServerContext, result: LaunchResult, name: string, clusterName: string) {
  const ok = result.runId !== null;
  return {
    job_id: result.runId ?? "",
    job_name: name,
    project_id: result.projectId ?? "",
    status: ok ? "LAUNCHED" : "FAILED",
    // An empty job_url is the only failure the client reads as one (code 11).
    job_url: ok ? `${ctx.publicUrl()}/runs/${result.runId}` : "",
    message: result.resultMsg,
    gpu_matched: [],
    // false: the client returns MATCHED and the server starts the run itself (its confirm path crashes).
    user_check: false,
    cluster_id: clusterName,
    server_agent_id: "",
    started_time: "",
  };
}

/**
 * runApplicationFromCli. The match call launches the run (so a cluster launch, which sends no
 * start call, starts too); the start call names that run and answers it again.
 */
export async function runApplication(ctx: ServerContext, registrations: Registrations, user: UserRow, body: WireBody) {
  const app = text(body, "applicationName", { max: 256 });
  const clusterName = text(body, "clusterName", { optional: true, max: 64 });
  const jobId = text(body, "jobId", { optional: true, max: 64 });
  if (body.needConfirmation === false && jobId) {
    const run = await ownedRun(ctx, user.id, jobId);
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
  const reg = registrations.get(user.id, app);
  if (!reg)
    throw new FedmlError(
      ResultCode.JOB_CONFIG_NOT_EXISTS,
      `application ${app} was not registered (updateApplicationFromCli)`,
      400,
    );
  const result = await launchRun(ctx, user, {
    yamlText: reg.yamlText,
    workspaceSha256: reg.workspaceSha256,
    workspaceName: reg.workspaceName,
    cluster: clusterName || null,
  });
  return wireLaunchData(ctx, result, app, clusterName);
}
