import { basename } from "node:path";
import {
  FedmlError,
  type LaunchRequest,
  type LaunchResult,
  ResultCode,
  ResultMessage,
  RunStatus,
  defaultJobName,
  parseJobYaml,
} from "@fedml/core";
import type { ServerContext } from "../context.js";
import { creditStanding } from "../store/credit.js";
import { ensureProject } from "../store/projects.js";
import { insertRun } from "../store/runs.js";
import type { UserRow } from "../store/users.js";
import { jobNeeds, queueOptions } from "./needs.js";

const verdictCodes = {
  queued: ResultCode.RESOURCE_MATCHED_STATUS_QUEUED,
  no_resources: ResultCode.RESOURCE_MATCHED_STATUS_NO_RESOURCES,
  blocked: ResultCode.RESOURCE_MATCHED_STATUS_BLOCKED,
} as const;

const creditCodes = {
  bind_card: ResultCode.RESOURCE_MATCHED_STATUS_BIND_CREDIT_CARD_FIRST,
  balance: ResultCode.USER_BALANCE_NOT_ENOUGH,
} as const;

function result(code: number, reason: string | null, runId: number | null, projectId: number | null): LaunchResult {
  const name = ResultMessage[code] ?? "ERROR";
  return {
    resultCode: code,
    resultMsg: reason ? `${name}: ${reason}` : name,
    runId: runId === null ? null : String(runId),
    projectId: projectId === null ? null : String(projectId),
    innerId: null,
  };
}

/**
 * Launch: parse the YAML (the server trusts no client's parse), check the workspace, then
 * place the run or queue it. A job that can never run is answered and not stored.
 */
export async function launchRun(ctx: ServerContext, user: UserRow, request: LaunchRequest): Promise<LaunchResult> {
  const spec = parseJobYaml(request.yamlText, { path: request.yamlPath ?? "job.yaml" });
  const sha = request.workspaceSha256 ?? null;
  if (spec.workspace !== null) {
    if (!sha) {
      throw new FedmlError(
        ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR,
        `the job has workspace ${spec.workspace} but the launch named no uploaded workspace`,
        400,
      );
    }
    if (!ctx.blobs.has(sha)) {
      throw new FedmlError(ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR, `workspace ${sha} was not uploaded`, 400);
    }
  }
  const workspaceName = request.workspaceName || (spec.workspace ? basename(spec.workspace.replace(/[\\/]+$/, "")) : null);
  const runName = defaultJobName(spec, workspaceName || null);
  const projectName = spec.projectName ?? "default";
  const resourceId = request.resourceId ? String(request.resourceId) : null;
  const { priority, retryLimit } = queueOptions(spec);
  const needs = { ...jobNeeds(spec, resourceId, user.id), credit: await creditStanding(ctx.db, user.id) };

  return ctx.placement.exclusive(async (match) => {
    const verdict = await match(user.id, needs);
    if (verdict.kind === "no_resources" || verdict.kind === "blocked") {
      return result(verdictCodes[verdict.kind], verdict.reason, null, null);
    }
    if (verdict.kind === "credit") return result(creditCodes[verdict.need], verdict.reason, null, null);
    const now = ctx.now();
    const project = await ensureProject(ctx.db, user.id, projectName, now);
    const run = await insertRun(ctx.db, {
      owner_id: user.id,
      project_id: project.id,
      name: runName,
      status: RunStatus.QUEUED,
      job_type: spec.jobType,
      platform: "falcon",
      yaml_text: request.yamlText,
      spec_json: JSON.stringify(spec),
      workspace_sha256: spec.workspace !== null ? sha : null,
      resource_id: resourceId,
      reason: verdict.kind === "queued" ? verdict.reason : null,
      exit_code: null,
      created_at: now,
      started_at: null,
      ended_at: null,
      stop_requested: 0,
      priority,
      retries_left: retryLimit,
    });
    if (verdict.kind === "queued") {
      return result(verdictCodes.queued, verdict.reason, run.id, project.id);
    }
    await ctx.placement.assign(run, verdict);
    return result(ResultCode.LAUNCH_JOB_STATUS_REQUEST_SUCCESS, null, run.id, project.id);
  });
}
