import { RunStatus } from "@fedml/core";
import type { Insertable, Kysely, Selectable, Updateable } from "kysely";
import type { Database, EndpointReplicasTable } from "./schema.js";

export type ReplicaRow = Selectable<EndpointReplicasTable>;

const TERMINAL_RUN = [RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED];

export async function insertReplica(db: Kysely<Database>, row: Insertable<EndpointReplicasTable>): Promise<ReplicaRow> {
  return db.insertInto("endpoint_replicas").values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findReplicaOfRun(db: Kysely<Database>, runId: number): Promise<ReplicaRow | undefined> {
  return db.selectFrom("endpoint_replicas").selectAll().where("run_id", "=", runId).executeTakeFirst();
}

/** The endpoints' replicas, oldest first; only those not ended unless `withEnded`. */
export async function listReplicas(db: Kysely<Database>, endpointIds: number[], withEnded = false): Promise<ReplicaRow[]> {
  if (endpointIds.length === 0) return [];
  let query = db.selectFrom("endpoint_replicas").selectAll().where("endpoint_id", "in", endpointIds);
  if (!withEnded) query = query.where("ended_at", "is", null);
  return query.orderBy("id").execute();
}

/** Changes a replica that has not ended; answers whether it had not. */
export async function updateLiveReplica(
  db: Kysely<Database>,
  id: number,
  changes: Updateable<EndpointReplicasTable>,
): Promise<boolean> {
  const result = await db
    .updateTable("endpoint_replicas")
    .set(changes)
    .where("id", "=", id)
    .where("ended_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Takes a replica out of rotation to be stopped; answers whether this call did it. */
export async function retireReplica(db: Kysely<Database>, id: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable("endpoint_replicas")
    .set({ retired_at: now, ready: 0 })
    .where("id", "=", id)
    .where("retired_at", "is", null)
    .where("ended_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Ends the run's replica (if not ended); answers whether this call did it. */
export async function endReplicaOfRun(db: Kysely<Database>, runId: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable("endpoint_replicas")
    .set({ ended_at: now, ready: 0 })
    .where("run_id", "=", runId)
    .where("ended_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Replicas still open whose run has ended by a path that did not close them (a queued run
 * canceled). The open replicas are read first (a CROSS JOIN keeps that order on SQLite): from
 * the runs' side, the ended runs are every run there ever was, read each second by the tick.
 */
export async function listReplicasOfEndedRuns(db: Kysely<Database>): Promise<{ run_id: number; status: string }[]> {
  return db
    .selectFrom("endpoint_replicas")
    .crossJoin("runs")
    .whereRef("runs.id", "=", "endpoint_replicas.run_id")
    .select(["endpoint_replicas.run_id", "runs.status"])
    .where("endpoint_replicas.ended_at", "is", null)
    .where("runs.status", "in", TERMINAL_RUN)
    .execute();
}

/** For assignments: the endpoint and probe of each serving run among `runIds`. */
export async function servingOfRuns(
  db: Kysely<Database>,
  runIds: number[],
): Promise<Map<number, { endpointId: number; probePath: string; probeIntervalMs: number }>> {
  if (runIds.length === 0) return new Map();
  const rows = await db
    .selectFrom("endpoint_replicas")
    .innerJoin("endpoints", "endpoints.id", "endpoint_replicas.endpoint_id")
    .select(["endpoint_replicas.run_id", "endpoints.id", "endpoints.probe_path", "endpoints.probe_interval_ms"])
    .where("endpoint_replicas.run_id", "in", runIds)
    .execute();
  return new Map(
    rows.map((r) => [r.run_id, { endpointId: r.id, probePath: r.probe_path, probeIntervalMs: Number(r.probe_interval_ms) }]),
  );
}

/** Replicas not ended of endpoints that have ended: their runs are still to be stopped. */
export async function listReplicasOfEndedEndpoints(db: Kysely<Database>, liveStatuses: string[]): Promise<ReplicaRow[]> {
  return db
    .selectFrom("endpoint_replicas")
    .innerJoin("endpoints", "endpoints.id", "endpoint_replicas.endpoint_id")
    .selectAll("endpoint_replicas")
    .where("endpoint_replicas.ended_at", "is", null)
    .where("endpoints.status", "not in", liveStatuses)
    .execute();
}
