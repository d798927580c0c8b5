import { EndpointStatus } from "@fedml/core";
import type { Insertable, Kysely, Selectable, Updateable } from "kysely";
import type { Database, EndpointsTable } from "./schema.js";

export type EndpointRow = Selectable<EndpointsTable>;

const LIVE = [EndpointStatus.DEPLOYING, EndpointStatus.READY];

export async function insertEndpoint(db: Kysely<Database>, row: Insertable<EndpointsTable>): Promise<EndpointRow> {
  return db.insertInto("endpoints").values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findEndpoint(db: Kysely<Database>, id: number): Promise<EndpointRow | undefined> {
  return db.selectFrom("endpoints").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function findEndpointOfRun(db: Kysely<Database>, runId: number): Promise<EndpointRow | undefined> {
  return db.selectFrom("endpoints").selectAll().where("run_id", "=", runId).executeTakeFirst();
}

export async function endpointIdsOfRuns(db: Kysely<Database>, runIds: number[]): Promise<Map<number, number>> {
  if (runIds.length === 0) return new Map();
  const rows = await db.selectFrom("endpoints").select(["id", "run_id"]).where("run_id", "in", runIds).execute();
  return new Map(rows.map((r) => [r.run_id, r.id]));
}

/** The owner's endpoints not yet removed, newest first. */
export async function listLiveEndpoints(db: Kysely<Database>, ownerId: number): Promise<EndpointRow[]> {
  return db
    .selectFrom("endpoints")
    .selectAll()
    .where("owner_id", "=", ownerId)
    .where("status", "in", LIVE)
    .orderBy("id", "desc")
    .execute();
}

export async function updateEndpoint(db: Kysely<Database>, id: number, changes: Updateable<EndpointsTable>): Promise<void> {
  await db.updateTable("endpoints").set(changes).where("id", "=", id).execute();
}

/** updateEndpoint only while its status is one of `expected`; false: someone else got there first. */
export async function updateEndpointIf(
  db: Kysely<Database>,
  id: number,
  expected: readonly string[],
  changes: Updateable<EndpointsTable>,
): Promise<boolean> {
  const result = await db
    .updateTable("endpoints")
    .set(changes)
    .where("id", "=", id)
    .where("status", "in", [...expected])
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Ends the run's endpoint (if live) with `status`; answers whether one was live. */
export async function endEndpointOfRun(db: Kysely<Database>, runId: number, status: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable("endpoints")
    .set({ status, ended_at: now })
    .where("run_id", "=", runId)
    .where("status", "in", LIVE)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
