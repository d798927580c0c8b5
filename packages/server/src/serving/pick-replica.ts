import type { ReplicaRow } from "../store/endpoint-replicas.js";
import { inRotation } from "./replica-status.js";

/**
 * The replicas requests go to: those in rotation of the newest generation that has one (during
 * a rolling update the answers switch to the new version as soon as it is ready). Pure.
 */
export function routableReplicas(replicas: readonly ReplicaRow[]): ReplicaRow[] {
  const ready = replicas.filter(inRotation);
  const newest = Math.max(...ready.map((r) => r.generation));
  return ready.filter((r) => r.generation === newest);
}

/**
 * Least outstanding requests; ties go round-robin by `turn` so that a quiet endpoint still
 * spreads its requests. Pure.
 */
export function pickReplica(
  candidates: readonly ReplicaRow[],
  inflightOf: (runId: number) => number,
  turn: number,
): ReplicaRow | undefined {
  if (candidates.length === 0) return undefined;
  const least = Math.min(...candidates.map((r) => inflightOf(r.run_id)));
  const tied = candidates.filter((r) => inflightOf(r.run_id) === least);
  return tied[turn % tied.length];
}
