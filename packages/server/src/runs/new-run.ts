import { type JobSpec, type LaunchResult, ResultMessage, RunStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import type { JobNeeds } from "../scheduler/matcher.js";
import type { ProjectRow } from "../store/projects.js";
import { ensureProject } from "../store/projects.js";
import { type RunRow, insertRun } from "../store/runs.js";
import type { UserRow } from "../store/users.js";
import { createEndpoint, isServingJob } from "../serving/lifecycle.js";
import { platformOfJob } from "./platform.js";

/** A launch request checked and parsed, ready to be stored once a place (or queue) is found. */
export interface PreparedLaunch {
  spec: JobSpec;
  yamlText: string;
  workspaceSha256: string | null;
  runName: string;
  projectName: string;
  resourceId: string | null;
  needs: JobNeeds;
  /** From the YAML (runs/needs.ts queueOptions): queue priority and retries on a lost device. */
  priority: number;
  retryLimit: number;
}

export function launchResult(
  code: number,
  reason: string | null,
  runId: number | null,
  projectId: number | null,
  innerId: number | null = null,
): LaunchResult {
  const name = ResultMessage[code] ?? "ERROR";
  return {
    resultCode: code,
    resultMsg: reason ? `${name}: ${reason}` : name,
    runId: runId === null ? null : String(runId),
    projectId: projectId === null ? null : String(projectId),
    innerId: innerId === null ? null : String(innerId),
  };
}

/**
 * Stores the run (and its project if new), waiting in `status` until placed (NOT_STARTED: held
 * until started, see runs/held.ts), or STARTING when the launch placed it at once (its parts
 * are written next, in the same transaction: scheduler/placement.ts assignFresh); a serve or
 * deploy run gets its endpoint here too, whose id the launch answers as innerId.
 */
export async function storeRun(
  ctx: ServerContext,
  user: UserRow,
  launch: PreparedLaunch,
  waiting: {
    status: typeof RunStatus.QUEUED | typeof RunStatus.CLUSTER_QUEUE | typeof RunStatus.NOT_STARTED | typeof RunStatus.STARTING;
    reason: string | null;
    clusterId: number | null;
  },
): Promise<{ run: RunRow; project: ProjectRow; innerId: number | null }> {
  const now = ctx.now();
  const project = await ensureProject(ctx.db, user.id, launch.projectName, now);
  const run = await insertRun(ctx.db, {
    owner_id: user.id,
    project_id: project.id,
    name: launch.runName,
    status: waiting.status,
    job_type: launch.spec.jobType,
    platform: platformOfJob(launch.spec),
    yaml_text: launch.yamlText,
    spec_json: JSON.stringify(launch.spec),
    workspace_sha256: launch.workspaceSha256,
    resource_id: launch.resourceId,
    reason: waiting.reason,
    exit_code: null,
    created_at: now,
    started_at: null,
    ended_at: null,
    stop_requested: 0,
    cluster_id: waiting.clusterId,
    priority: launch.priority,
    retries_left: launch.retryLimit,
    placed_at: waiting.status === RunStatus.STARTING ? now : null,
  });
  const endpoint = isServingJob(launch.spec) ? await createEndpoint(ctx.db, run, launch.spec, now) : null;
  return { run, project, innerId: endpoint?.id ?? null };
}
