import { basename } from "node:path";
import { FedmlError, type LaunchRequest, type LaunchResult, ResultCode, RunStatus, defaultJobName } from "@fedml/core";
import { checkClusterName, createCluster, decideOnCluster } from "../clusters/launch.js";
import { useWorkspace } from "../workspaces/access.js";
import type { ServerContext } from "../context.js";
import { decideFederated, namesFederatedDevices } from "../federate/place.js";
import { jobNeeds } from "../scheduler/job-needs.js";
import type { PlacedNode } from "../scheduler/matcher.js";
import type { Match } from "../scheduler/placement.js";
import { creditStanding } from "../billing/standing.js";
import type { UserRow } from "../store/users.js";
import { transition } from "../transition.js";
import { creditCodes, type LaunchDecision, Refusal, refuse, verdictCodes, waitingStatus } from "../scheduler/launch-decision.js";
import { GroupCommit, type Outcome } from "../store/group-commit.js";
import { perDatabase } from "../store/per-database.js";
import { queueOptions } from "./needs.js";
import { type PreparedLaunch, launchResult, storeRun } from "./new-run.js";

/**
 * Launch. Load: parse the YAML (the server trusts no client's parse) and check the request,
 * writing nothing. Then, in one transaction holding the placement lock: decide once what
 * kind of run this is and where it goes (decideLaunch), and apply that decision
 * (applyLaunch): store the run and assign it, or store it waiting, or refuse it with nothing
 * stored. A run that fits now is thus placed by the request itself, through the same lock and
 * the same assign step as the queue pass, and answered with its placement; one that must wait
 * is left to the queue pass (scheduler/queue-loop.ts).
 *
 * Plain launches (neither on a cluster nor federated) asked for together share that
 * transaction (launchTogether): each is decided and applied in turn, seeing the ones before it.
 */
export async function launchRun(ctx: ServerContext, user: UserRow, request: LaunchRequest): Promise<LaunchResult> {
  if (request.cluster) return (await launchOrHold(ctx, user, request, false)).result;
  const prepared = await prepareLaunch(ctx, user, request);
  if (prepared.spec.jobType === "federate") return (await launchOrHold(ctx, user, request, false, prepared)).result;
  return plainLaunches(ctx.db).submit({ ctx, user, request, prepared });
}

interface PlainLaunch {
  ctx: ServerContext;
  user: UserRow;
  request: LaunchRequest;
  prepared: PreparedLaunch;
}

/** One group commit of plain launches per database (all of a server's requests share its database). */
const plainLaunches = perDatabase(() => new GroupCommit<PlainLaunch, LaunchResult>(launchTogether));

/**
 * Plain launches in one transaction under the placement lock, in the order asked. A launch
 * refused writes nothing and leaves the others be. Any other error rolls the whole group back
 * before its commit; each launch is then tried again alone, so that one launch's error is its
 * own caller's and no other's. An error at the commit itself is everyone's: the group may
 * have landed, and trying again could store a run twice.
 */
async function launchTogether(group: PlainLaunch[]): Promise<Outcome<LaunchResult>[]> {
  const { ctx } = group[0];
  let committing = false;
  try {
    const results = await transition(ctx, async (tctx) => {
      const match = await ctx.placement.lock(tctx.db);
      const answers: LaunchResult[] = [];
      for (const { user, request, prepared } of group) {
        const decision = await decideLaunch(tctx, match, user, request, prepared);
        answers.push(
          decision.kind === "refuse"
            ? launchResult(decision.code, decision.reason, null, null)
            : await applyLaunch(tctx, user, prepared, decision),
        );
      }
      committing = true;
      return answers;
    });
    return results.map((value) => ({ ok: true, value }));
  } catch (error) {
    if (committing || group.length === 1) return group.map((): Outcome<LaunchResult> => ({ ok: false, error }));
    return Promise.all(
      group.map((one) =>
        launchTogether([one]).then(
          ([outcome]) => outcome,
          (err: unknown): Outcome<LaunchResult> => ({ ok: false, error: err }),
        ),
      ),
    );
  }
}

/**
 * A launch that finds its resources without starting: a run that fits now is stored
 * NOT_STARTED with the devices it matched (answered, not assigned), for a later start
 * (runs/held.ts) to queue; one that must wait is queued as by launchRun, and a cluster
 * launch starts at once. The official client's match call (fedml-wire).
 */
export function holdRun(ctx: ServerContext, user: UserRow, request: LaunchRequest): Promise<HeldLaunch> {
  return launchOrHold(ctx, user, request, !request.cluster);
}

export interface HeldLaunch {
  result: LaunchResult;
  /** The devices a held run matched (empty when it was queued or refused). */
  matched: readonly PlacedNode[];
}

async function launchOrHold(
  ctx: ServerContext,
  user: UserRow,
  request: LaunchRequest,
  hold: boolean,
  prepared?: PreparedLaunch,
): Promise<HeldLaunch> {
  prepared ??= await prepareLaunch(ctx, user, request);
  try {
    return await transition(ctx, async (tctx) => {
      const match = await ctx.placement.lock(tctx.db);
      const decision = await decideLaunch(tctx, match, user, request, prepared);
      if (hold && decision.kind === "place" && !decision.createCluster) {
        const { run, project, innerId } = await storeRun(tctx, user, prepared, {
          status: RunStatus.NOT_STARTED,
          reason: "matched: waiting for the start call",
          clusterId: decision.clusterId,
        });
        const result = launchResult(ResultCode.LAUNCH_JOB_STATUS_REQUEST_SUCCESS, null, run.id, project.id, innerId);
        return { result, matched: decision.nodes };
      }
      return { result: await applyLaunch(tctx, user, prepared, decision), matched: [] };
    });
  } catch (err) {
    if (err instanceof Refusal) return { result: err.result, matched: [] };
    throw err;
  }
}

async function prepareLaunch(ctx: ServerContext, user: UserRow, request: LaunchRequest): Promise<PreparedLaunch> {
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
  if (request.cluster) checkClusterName(request.cluster);
  return {
    spec,
    yamlText: request.yamlText,
    workspaceSha256: spec.workspace !== null ? sha : null,
    runName: defaultJobName(spec, workspaceName || null),
    projectName: spec.projectName ?? "default",
    resourceId,
    needs: {
      ...jobNeeds(spec, resourceId, user.id),
      // A plain launch starts from the balance on the user's row (read with the key for this
      // request) and reads what the user already pays for only if its placement costs (decideLaunch).
      credit:
        request.cluster || federated
          ? await creditStanding(ctx.db, user.id)
          : { cardBound: user.card_bound === 1, balanceMicros: user.credit_balance_micros },
    },
    ...queueOptions(spec),
  };
}

/** The one place a launch's kind is told apart: on a cluster, federated, or placed by the matcher. */
async function decideLaunch(
  ctx: ServerContext,
  match: Match,
  user: UserRow,
  request: LaunchRequest,
  prepared: PreparedLaunch,
): Promise<LaunchDecision> {
  if (request.cluster) return decideOnCluster(ctx, match, user.id, request.cluster, prepared.needs);
  if (prepared.spec.jobType === "federate") return decideFederated(ctx, user.id, prepared.spec, request, prepared.needs);
  // The balance alone decides every verdict but a paid placement's (matcher.ts placedOrBalance):
  // only then is what the user already pays for read, and the match made again with it.
  const first = await match(user.id, prepared.needs);
  const paid = (first.kind === "placed" && first.pricePerHour > 0) || first.kind === "credit";
  const verdict = paid ? await match(user.id, { ...prepared.needs, credit: await creditStanding(ctx.db, user.id) }) : first;
  switch (verdict.kind) {
    case "placed":
      return { kind: "place", nodes: verdict.nodes, firstRank: 1, clusterId: null };
    case "queued":
      return { kind: "queue", reason: verdict.reason, clusterId: null };
    case "credit":
      return refuse(creditCodes[verdict.need], verdict.reason);
    default:
      return refuse(verdictCodes[verdict.kind], verdict.reason);
  }
}

/** Carries out a launch decision; a refusal is thrown (Refusal) so the transaction rolls back. */
async function applyLaunch(
  ctx: ServerContext,
  user: UserRow,
  prepared: PreparedLaunch,
  decision: LaunchDecision,
): Promise<LaunchResult> {
  if (decision.kind === "refuse") throw new Refusal(launchResult(decision.code, decision.reason, null, null));
  const clusterId =
    decision.kind === "place" && decision.createCluster
      ? await createCluster(ctx, user.id, decision.createCluster, prepared.needs, decision.nodes)
      : decision.clusterId;
  if (decision.kind === "queue") {
    const { reason } = decision;
    const { run, project, innerId } = await storeRun(ctx, user, prepared, {
      status: waitingStatus(clusterId),
      reason,
      clusterId,
    });
    ctx.log.info({ event: "run.queued", runId: run.id, reason }, "run queued");
    return launchResult(verdictCodes.queued, reason, run.id, project.id, innerId);
  }
  // Placed by this transaction under the placement lock: stored STARTING at once, not stored
  // waiting and then claimed (one statement fewer per launch).
  const { run, project, innerId } = await storeRun(ctx, user, prepared, { status: RunStatus.STARTING, reason: null, clusterId });
  await ctx.placement.assignFresh(ctx, run, decision);
  return launchResult(ResultCode.LAUNCH_JOB_STATUS_REQUEST_SUCCESS, null, run.id, project.id, innerId);
}
