import { FedmlError, type FedMLRunModelList, Paths, ResultCode, type RunStatusResult, type StopRunResponse } from "@fedml/core";
import { request } from "../http.js";
import { type ApiOptions, resolveEndpoint } from "./connection.js";

export interface PlatformOptions extends ApiOptions {
  /**
   * The platform name (octopus, parrot, spider, beehive, falcon, launch, cheetah). Given: only
   * runs recorded on that platform (launch = falcon; unknown names fall back to falcon).
   * Omitted: every run, whatever its platform.
   */
  platform?: string | null;
}

/** Sent only when the caller named a platform: the server filters by it. */
export function platformQuery(platform: string | null | undefined): string | undefined {
  return platform === undefined || platform === null || platform === "" ? undefined : platform;
}

export interface RunListOptions extends PlatformOptions {
  /** Id of the run to list (only required if runName is not provided). */
  runId?: string | null;
  /** Ours: only runs in one of these statuses (e.g. ["RUNNING", "QUEUED"]). */
  status?: readonly string[] | null;
  /** Ours: at most this many runs, newest first (1..1000; default 1000). */
  limit?: number | null;
  /** Ours, admins only: every user's runs, not only yours. */
  allUsers?: boolean;
}

/**
 * List a run on FedML AI Nexus platform.
 *
 * ```py
 * fedml.api.run_list(run_name, run_id=None, platform="falcon", api_key=None)
 * ```
 *
 * @param runName Name of the run; null (with no runId) lists all your runs.
 * @returns `FedMLRunModelList`: a list of `FedMLRunModel` with `status`, `runningTime`, `cost`, `runUrl` etc.
 */
export async function runList(runName: string | null, options: RunListOptions = {}): Promise<FedMLRunModelList> {
  const endpoint = await resolveEndpoint(options);
  return request<FedMLRunModelList>("GET", Paths.runs, endpoint, {
    query: {
      runName: runName ?? undefined,
      runId: options.runId ?? undefined,
      platform: platformQuery(options.platform),
      status: options.status && options.status.length > 0 ? options.status.join(",") : undefined,
      limit: options.limit ?? undefined,
      allUsers: options.allUsers ? true : undefined,
    },
  });
}

/**
 * Get status a run on FedML AI Nexus platform.
 *
 * ```py
 * fedml.api.run_status(run_name, run_id, platform: str = "falcon", api_key: str = None)
 * ```
 *
 * @param runName Name of the run.
 * @param runId Id of the run to get status of (only required if runName is not provided).
 * @returns `{ runList, status }`: the `FedMLRunModelList` and the run's status (Python answers a tuple).
 * @throws FedmlError 3 when more than one run matches the name, 25 when none does.
 */
export async function runStatus(
  runName: string | null,
  runId: string | null,
  options: PlatformOptions = {},
): Promise<RunStatusResult> {
  if (!runName && !runId) {
    throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, "run status needs a run name or a run id");
  }
  const list = await runList(runName, { ...options, runId });
  const runs = list.runList;
  if (runs.length === 0) {
    const message = runId ? `run ${runId}${runName ? ` named ${runName}` : ""} not found` : `no run named ${runName} found`;
    throw new FedmlError(ResultCode.JOB_NOT_EXISTS, message);
  }
  if (runs.length > 1) {
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      `${runs.length} runs are named ${runName}: give the run id`,
    );
  }
  return { runList: list, status: runs[0].status };
}

/**
 * Stop a run on FedML AI Nexus platform.
 *
 * ```py
 * fedml.api.run_stop(run_id, platform="falcon", api_key=None)
 * ```
 *
 * @param runId Id of the run to stop (returned in `LaunchResult` after launching a job).
 * @returns Whether the run was successfully stopped (or is stopping).
 */
export async function runStop(runId: string, options: PlatformOptions = {}): Promise<boolean> {
  const endpoint = await resolveEndpoint(options);
  const answer = await request<StopRunResponse>("POST", Paths.runStop(runId), endpoint, {
    query: { platform: platformQuery(options.platform) },
    body: {},
  });
  return answer.stopped;
}
