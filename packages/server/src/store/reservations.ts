import type { Insertable, Kysely, Selectable } from "kysely";
import { ClusterState } from "./clusters.js";
import type { Database, ReservationsTable } from "./schema.js";

export type ReservationRow = Selectable<ReservationsTable>;

/** Another owner's paid device an active cluster holds now. */
export interface ForeignHolding {
  cluster_id: number;
  device_id: number;
  payer_id: number;
  payee_id: number;
  price_per_gpu_hour_micros: number;
  gpus_json: string;
}

export async function listForeignHoldings(db: Kysely<Database>): Promise<ForeignHolding[]> {
  const rows = await db
    .selectFrom("cluster_devices")
    .innerJoin("clusters", "clusters.id", "cluster_devices.cluster_id")
    .innerJoin("devices", "devices.id", "cluster_devices.device_id")
    .select([
      "cluster_devices.cluster_id",
      "cluster_devices.device_id",
      "clusters.owner_id as payer_id",
      "devices.owner_id as payee_id",
      "devices.price_per_gpu_hour_micros",
      "devices.gpus_json",
    ])
    .where("clusters.state", "=", ClusterState.ACTIVE)
    .where("devices.price_per_gpu_hour_micros", ">", 0)
    .execute();
  return rows.filter((r) => r.payer_id !== r.payee_id);
}

/** Per payer, a digest of their open holds that changes whenever one opens or ends (see billingPartDigests). */
export async function openHoldDigests(db: Kysely<Database>): Promise<Map<number, string>> {
  const rows = await db
    .selectFrom("reservations")
    .select((eb) => ["payer_id", eb.fn.countAll().as("holds"), eb.fn.sum("id").as("ids")])
    .where("ended_at", "is", null)
    .groupBy("payer_id")
    .execute();
  return new Map(rows.map((r) => [r.payer_id, `${r.holds}/${r.ids}`]));
}

/** Holds not yet ended (of one payer, or of everyone). */
export async function listOpenReservations(
  db: Kysely<Database>,
  payerId?: number | readonly number[],
): Promise<ReservationRow[]> {
  let q = db.selectFrom("reservations").selectAll().where("ended_at", "is", null);
  if (typeof payerId === "number") q = q.where("payer_id", "=", payerId);
  else if (payerId !== undefined) q = q.where("payer_id", "in", payerId.length > 0 ? [...payerId] : [-1]);
  return q.orderBy("id").execute();
}

export async function insertReservation(db: Kysely<Database>, row: Insertable<ReservationsTable>): Promise<void> {
  await db.insertInto("reservations").values(row).execute();
}

/** Ends a hold once; false when it had ended already (someone else got there first). */
export async function endReservation(db: Kysely<Database>, id: number, endedAt: number): Promise<boolean> {
  const result = await db
    .updateTable("reservations")
    .set({ ended_at: endedAt })
    .where("id", "=", id)
    .where("ended_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
