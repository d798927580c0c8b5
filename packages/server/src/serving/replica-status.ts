import { ReplicaStatus } from "@fedml/core";
import type { ReplicaRow } from "../store/endpoint-replicas.js";

/** Pure: what a replica row says about the replica. */
export function replicaStatus(row: Pick<ReplicaRow, "ended_at" | "retired_at" | "ready" | "ready_at">): ReplicaStatus {
  if (row.ended_at !== null) return ReplicaStatus.ENDED;
  if (row.retired_at !== null) return ReplicaStatus.DRAINING;
  if (row.ready === 1) return ReplicaStatus.READY;
  return row.ready_at !== null ? ReplicaStatus.UNHEALTHY : ReplicaStatus.STARTING;
}

/** Gets requests: ready, not retired, not ended. */
export function inRotation(row: Pick<ReplicaRow, "ended_at" | "retired_at" | "ready" | "ready_at">): boolean {
  return replicaStatus(row) === ReplicaStatus.READY;
}
