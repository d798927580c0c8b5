import { TERMINAL_RUN_STATUSES } from "@fedml/core";
import type { Insertable, Kysely, Selectable, Updateable } from "kysely";
import { preparedRead } from "./prepared.js";
import type { ClustersTable, Database } from "./schema.js";

export type ClusterRow = Selectable<ClustersTable>;

export const ClusterState = { ACTIVE: "active", STOPPED: "stopped", TERMINATED: "terminated" } as const;
export type ClusterState = (typeof ClusterState)[keyof typeof ClusterState];

const terminalRunStatuses = [...TERMINAL_RUN_STATUSES];

export async function insertCluster(db: Kysely<Database>, row: Insertable<ClustersTable>): Promise<ClusterRow> {
  return db.insertInto("clusters").values(row).returningAll().executeTakeFirstOrThrow();
}

export async function updateCluster(db: Kysely<Database>, id: number, changes: Updateable<ClustersTable>): Promise<void> {
  await db.updateTable("clusters").set(changes).where("id", "=", id).execute();
}

/** updateCluster only while its state is `expected`; false: someone else got there first. */
export async function updateClusterIf(
  db: Kysely<Database>,
  id: number,
  expected: string,
  changes: Updateable<ClustersTable>,
): Promise<boolean> {
  const result = await db
    .updateTable("clusters")
    .set(changes)
    .where("id", "=", id)
    .where("state", "=", expected)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function findClusterById(db: Kysely<Database>, id: number): Promise<ClusterRow | undefined> {
  return db.selectFrom("clusters").selectAll().where("id", "=", id).executeTakeFirst();
}

/** The owner's clusters with these names (all when omitted), newest first, killed ones included. */
export async function listOwnerClusters(db: Kysely<Database>, ownerId: number, names?: string[]): Promise<ClusterRow[]> {
  if (names && names.length === 0) return [];
  let q = db.selectFrom("clusters").selectAll().where("owner_id", "=", ownerId);
  if (names) q = q.where("name", "in", names);
  return q.orderBy("id", "desc").execute();
}

export async function listActiveClusters(db: Kysely<Database>): Promise<ClusterRow[]> {
  return db.selectFrom("clusters").selectAll().where("state", "=", ClusterState.ACTIVE).orderBy("id").execute();
}

export async function setClusterDevices(db: Kysely<Database>, clusterId: number, deviceIds: number[]): Promise<void> {
  await db.deleteFrom("cluster_devices").where("cluster_id", "=", clusterId).execute();
  if (deviceIds.length === 0) return;
  await db
    .insertInto("cluster_devices")
    .values([...new Set(deviceIds)].map((device_id) => ({ cluster_id: clusterId, device_id })))
    .execute();
}

/** (cluster, device) pairs of the given clusters. */
export async function listClusterDevices(
  db: Kysely<Database>,
  clusterIds: number[],
): Promise<{ cluster_id: number; device_id: number }[]> {
  if (clusterIds.length === 0) return [];
  return db
    .selectFrom("cluster_devices")
    .select(["cluster_id", "device_id"])
    .where("cluster_id", "in", clusterIds)
    .orderBy("cluster_id")
    .orderBy("device_id")
    .execute();
}

/** Devices held by active clusters, with the cluster holding each. */
export const listReservations: (db: Kysely<Database>) => Promise<{ cluster_id: number; device_id: number }[]> = preparedRead(
  (db) =>
    db
      .selectFrom("cluster_devices")
      .innerJoin("clusters", "clusters.id", "cluster_devices.cluster_id")
      .select(["cluster_devices.cluster_id", "cluster_devices.device_id"])
      .where("clusters.state", "=", ClusterState.ACTIVE),
);

/** Runs of these clusters not yet ended, oldest first. */
export async function listLiveClusterRuns(
  db: Kysely<Database>,
  clusterIds: number[],
): Promise<{ id: number; cluster_id: number | null; status: string; created_at: number }[]> {
  if (clusterIds.length === 0) return [];
  return db
    .selectFrom("runs")
    .select(["id", "cluster_id", "status", "created_at"])
    .where("cluster_id", "in", clusterIds)
    .where("status", "not in", terminalRunStatuses)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

/** When the cluster's last run ended (null when none has). */
export async function lastClusterRunEnd(db: Kysely<Database>, clusterId: number): Promise<number | null> {
  const row = await db
    .selectFrom("runs")
    .select((eb) => eb.fn.max("ended_at").as("last"))
    .where("cluster_id", "=", clusterId)
    .executeTakeFirst();
  return row?.last === null || row?.last === undefined ? null : Number(row.last);
}
