import { basename } from "node:path";
import { FedmlError, type LaunchRequest, type LaunchResult, ResultCode, RunStatus, defaultJobName } from "@fedml/core";
import { launchOnCluster } from "../clusters/launch.js";
import { useWorkspace } from "../workspaces/access.js";
import type { ServerContext } from "../context.js";
import type { UserRow } from "../store/users.js";
import { creditStanding } from "../store/credit.js";
import { jobNeeds } from "../scheduler/job-needs.js";
import { queueOptions } from "./needs.js";
import { assignFederated, namesFederatedDevices, placeFederated } from "../federate/place.js";
import { type PreparedLaunch, launchResult, storeRun } from "./new-run.js";

const verdictCodes = {
  queued: ResultCode.RESOURCE_MATCHED_STATUS_QUEUED,
  no_resources: ResultCode.RESOURCE_MATCHED_STATUS_NO_RESOURCES,
  blocked: ResultCode.RESOURCE_MATCHED_STATUS_BLOCKED,
} as const;

const creditCodes = {
  bind_card: ResultCode.RESOURCE_MATCHED_STATUS_BIND_CREDIT_CARD_FIRST,
  balance: ResultCode.USER_BALANCE_NOT_ENOUGH,
} as const;

/**
 * Launch: parse the YAML (the server trusts no client's parse), check the workspace, then
 * place the run or queue it. A job that can never run is answered and not stored.
 */
export async function launchRun(ctx: ServerContext, user: UserRow, request: LaunchRequest): Promise<LaunchResult> {
  const spec = await ctx.jobYaml.parse(request.yamlText, { path: request.yamlPath ?? "job.yaml" });
  const sha = request.workspaceSha256 ?? null;
  if (spec.workspace !== null) {
    if (!sha) {
      throw new FedmlError(
        ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR,
        `the job has workspace ${spec.workspace} but the launch named no uploaded workspace`,
        400,
      );
    }
    if (!(await useWorkspace(ctx.db, sha, user.id, ctx.now()))) {
      throw new FedmlError(ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR, `workspace ${sha} was not uploaded`, 400);
    }
  }
  const workspaceName = request.workspaceName || (spec.workspace ? basename(spec.workspace.replace(/[\\/]+$/, "")) : null);
  const resourceId = request.resourceId ? String(request.resourceId) : null;
  const federated = spec.jobType === "federate";
  if (!federated && namesFederatedDevices(request)) {
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      `device_server and device_edges are for federated jobs (job_type: federate), not ${spec.jobType}`,
      400,
    );
  }
  if (federated && resourceId) {
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      "resource_id pins one device: name a federated job's devices with device_server and device_edges",
      400,
    );
  }
  const prepared: PreparedLaunch = {
    spec,
    yamlText: request.yamlText,
    workspaceSha256: spec.workspace !== null ? sha : null,
    runName: defaultJobName(spec, workspaceName || null),
    projectName: spec.projectName ?? "default",
    resourceId,
    needs: { ...jobNeeds(spec, resourceId, user.id), credit: await creditStanding(ctx.db, user.id) },
    ...queueOptions(spec),
  };
  if (request.cluster) return launchOnCluster(ctx, user, request.cluster, prepared);

  if (federated) {
    return ctx.placement.exclusive(async () => {
      const pick = await placeFederated(ctx, user.id, spec, request, prepared.needs);
      if (pick.kind !== "placed") return launchResult(verdictCodes[pick.kind], pick.reason, null, null);
      const { run, project } = await storeRun(ctx, user, prepared, { status: RunStatus.QUEUED, reason: null, clusterId: null });
      await assignFederated(ctx, run.id, pick);
      return launchResult(ResultCode.LAUNCH_JOB_STATUS_REQUEST_SUCCESS, null, run.id, project.id);
    });
  }

  return ctx.placement.exclusive(async (match) => {
    const verdict = await match(user.id, prepared.needs);
    if (verdict.kind === "no_resources" || verdict.kind === "blocked") {
      return launchResult(verdictCodes[verdict.kind], verdict.reason, null, null);
    }
    if (verdict.kind === "credit") return launchResult(creditCodes[verdict.need], verdict.reason, null, null);
    const { run, project, innerId } = await storeRun(ctx, user, prepared, {
      status: RunStatus.QUEUED,
      reason: verdict.kind === "queued" ? verdict.reason : null,
      clusterId: null,
    });
    if (verdict.kind === "queued") {
      return launchResult(verdictCodes.queued, verdict.reason, run.id, project.id, innerId);
    }
    await ctx.placement.assign(run, verdict);
    return launchResult(ResultCode.LAUNCH_JOB_STATUS_REQUEST_SUCCESS, null, run.id, project.id, innerId);
  });
}
