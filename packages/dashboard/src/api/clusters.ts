import type { ClusterAction, ClusterActionResponse, FedMLClusterModel, FedMLClusterModelList } from "@fedml/core";
import { call, get, post } from "./client.js";

/** The caller's clusters that are not killed. */
export const listClusters = (signal?: AbortSignal) => get<FedMLClusterModelList>("/clusters", { signal });

export const actOnCluster = (action: ClusterAction, name: string) =>
  post<ClusterActionResponse>(`/clusters/${action}`, { body: { names: [name] } });

/** Minutes without a live run before the cluster stops by itself; 0 = never. */
export const setAutostop = (name: string, idleMinutes: number) =>
  call<FedMLClusterModel>("PUT", `/clusters/${encodeURIComponent(name)}/autostop`, { body: { idleMinutes } });
