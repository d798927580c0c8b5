import { ClusterStatus } from "@fedml/core";
import { ClusterState } from "../store/clusters.js";

const MINUTE_MS = 60_000;

/** The status users see, from the stored state and whether any run on it is live. Pure. */
export function clusterStatusOf(state: string, liveRuns: number): ClusterStatus {
  if (state === ClusterState.TERMINATED) return ClusterStatus.TERMINATED;
  if (state === ClusterState.STOPPED) return ClusterStatus.STOPPED;
  return liveRuns > 0 ? ClusterStatus.RUNNING : ClusterStatus.IDLE;
}

/**
 * When an idle cluster stops by itself: idle minutes after the later of its idle clock's start
 * (creation, start, autostop change) and its last run's end. Null: never (idle minutes 0). Pure.
 */
export function idleStopAt(idleMinutes: number, idleFrom: number, lastRunEnd: number | null): number | null {
  if (!(idleMinutes > 0)) return null;
  return Math.max(idleFrom, lastRunEnd ?? 0) + idleMinutes * MINUTE_MS;
}
