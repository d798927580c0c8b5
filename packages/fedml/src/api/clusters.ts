import {
  type ClusterAction,
  type ClusterActionRequest,
  type ClusterActionResponse,
  type ClusterStatusResult,
  ClusterStatus,
  type FedMLClusterModel,
  type FedMLClusterModelList,
  Paths,
} from "@fedml/core";
import { request } from "../http.js";
import { type ApiOptions, resolveEndpoint } from "./connection.js";

export type { ClusterActionResponse, ClusterStatusResult };

/** Python takes a tuple of names; a single name is accepted too. */
type Names = string | readonly string[];
const asList = (names: Names): string[] => (typeof names === "string" ? [names] : [...names]);

/**
 * List clusters associated with your account on FedML AI Nexus platform.
 *
 * ```py
 * fedml.api.cluster_list(cluster_names=(), api_key=None)
 * ```
 *
 * @param clusterNames Cluster names; empty (the default) lists every cluster you have that
 *   was not killed. A named cluster that was killed is listed as TERMINATED; unknown names are left out.
 * @returns `FedMLClusterModelList`: `clusterList` of `{ clusterName, clusterId, status }`
 *   (status IDLE, RUNNING, STOPPED or TERMINATED), plus our `deviceIds`, `idleMinutes`, `liveRunIds`, `reason`.
 */
export async function clusterList(clusterNames: Names = [], options: ApiOptions = {}): Promise<FedMLClusterModelList> {
  const endpoint = await resolveEndpoint(options);
  const names = asList(clusterNames);
  return request<FedMLClusterModelList>("GET", Paths.clusters, endpoint, {
    query: { names: names.length > 0 ? names.join(",") : undefined },
  });
}

/**
 * Check whether cluster with provided name exists on your account on FedML AI Nexus platform.
 *
 * ```py
 * fedml.api.cluster_exists(cluster_name, api_key=None)
 * ```
 *
 * @returns Whether you have a cluster of that name that was not killed.
 */
export async function clusterExists(clusterName: string, options: ApiOptions = {}): Promise<boolean> {
  const { clusterList: list } = await clusterList([clusterName], options);
  return list.some((c) => c.clusterName === clusterName && c.status !== ClusterStatus.TERMINATED);
}

/**
 * Check status of your cluster on FedML AI Nexus platform.
 *
 * ```py
 * fedml.api.cluster_status(cluster_name, api_key=None)
 * ```
 *
 * @returns `{ status, clusterList }` (Python answers the tuple `(status, FedMLClusterModelList)`).
 * @throws FedmlError 15 (CLUSTER_CONFIRM_FAILED) when you have no cluster of that name.
 */
export async function clusterStatus(clusterName: string, options: ApiOptions = {}): Promise<ClusterStatusResult> {
  const endpoint = await resolveEndpoint(options);
  return request<ClusterStatusResult>("GET", Paths.cluster(clusterName), endpoint);
}

/**
 * Ours: start, stop or kill clusters and answer the details (which failed and why); the seed's
 * boolean functions below are built on it. `names` null means all of your clusters.
 *
 * @throws FedmlError 15 when a name is not one of your clusters (nothing is changed then).
 */
export async function clusterAction(
  action: ClusterAction,
  names: Names | null,
  options: ApiOptions = {},
): Promise<ClusterActionResponse> {
  const endpoint = await resolveEndpoint(options);
  const body: ClusterActionRequest = names === null ? { all: true } : { names: asList(names) };
  return request<ClusterActionResponse>("POST", Paths.clusterAction(action), endpoint, { body });
}

/**
 * Start selected clusters on FedML AI Nexus platform: each takes its devices again (the same
 * ones when free, else a matching set).
 *
 * ```py
 * fedml.api.cluster_start(cluster_names: Tuple[str], api_key=None)
 * ```
 *
 * @returns Whether every cluster is now started (false, e.g., for a killed cluster or when no devices fit).
 */
export async function clusterStart(clusterNames: Names, options: ApiOptions = {}): Promise<boolean> {
  return (await clusterAction("start", clusterNames, options)).done;
}

/**
 * Start all existing clusters on your account on FedML AI Nexus platform.
 *
 * ```py
 * fedml.api.cluster_startall(api_key=None)
 * ```
 */
export async function clusterStartall(options: ApiOptions = {}): Promise<boolean> {
  return (await clusterAction("start", null, options)).done;
}

/**
 * Stop selected clusters on FedML AI Nexus platform: their runs are stopped and their devices
 * let go; the clusters stay (STOPPED) and can be started again.
 *
 * ```py
 * fedml.api.cluster_stop(cluster_names: Tuple[str], api_key=None)
 * ```
 *
 * @returns Whether every cluster is now stopped (stopping a stopped one succeeds).
 */
export async function clusterStop(clusterNames: Names, options: ApiOptions = {}): Promise<boolean> {
  return (await clusterAction("stop", clusterNames, options)).done;
}

/**
 * Stop all existing clusters on your account on FedML AI Nexus platform.
 *
 * ```py
 * fedml.api.cluster_stopall(api_key=None)
 * ```
 */
export async function clusterStopall(options: ApiOptions = {}): Promise<boolean> {
  return (await clusterAction("stop", null, options)).done;
}

/**
 * Kill (Tear Down) selected clusters on FedML AI Nexus platform. Unlike stop, a killed cluster
 * cannot be started again; its runs are stopped.
 *
 * ```py
 * fedml.api.cluster_kill(cluster_names: Tuple[str], api_key=None)
 * ```
 *
 * @returns Whether every cluster is now killed (killing a killed one succeeds).
 */
export async function clusterKill(clusterNames: Names, options: ApiOptions = {}): Promise<boolean> {
  return (await clusterAction("kill", clusterNames, options)).done;
}

/**
 * Kill (Tear Down) all existing clusters on your account on FedML AI Nexus platform.
 *
 * ```py
 * fedml.api.cluster_killall(api_key=None)
 * ```
 */
export async function clusterKillall(options: ApiOptions = {}): Promise<boolean> {
  return (await clusterAction("kill", null, options)).done;
}

/**
 * Ours: how long a cluster may sit idle (no run live on it) before it stops by itself. The
 * default is 15 minutes; 0 means never; fractions are fine. The idle clock restarts now.
 *
 * @returns The cluster's `FedMLClusterModel`.
 */
export async function clusterAutostop(
  clusterName: string,
  idleMinutes: number,
  options: ApiOptions = {},
): Promise<FedMLClusterModel> {
  const endpoint = await resolveEndpoint(options);
  return request<FedMLClusterModel>("PUT", Paths.clusterAutostop(clusterName), endpoint, { body: { idleMinutes } });
}
