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

/** The owner's live endpoint named `name` (a launch with that endpoint name updates it). */
export async function findLiveEndpointByName(
  db: Kysely<Database>,
  ownerId: number,
  name: string,
): Promise<EndpointRow | undefined> {
  return db
    .selectFrom("endpoints")
    .selectAll()
    .where("owner_id", "=", ownerId)
    .where("name", "=", name)
    .where("status", "in", LIVE)
    .orderBy("id", "desc")
    .executeTakeFirst();
}

/** Every live endpoint (the serving controller's pass). */
export async function listAllLiveEndpoints(db: Kysely<Database>): Promise<EndpointRow[]> {
  return db.selectFrom("endpoints").selectAll().where("status", "in", LIVE).orderBy("id").execute();
}

export function isLiveEndpoint(row: Pick<EndpointRow, "status">): boolean {
  return (LIVE as string[]).includes(row.status);
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

/** Ends the endpoint (if live) with `status`; answers whether this call did it. */
export async function endEndpoint(db: Kysely<Database>, id: number, status: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable("endpoints")
    .set({ status, ended_at: now })
    .where("id", "=", id)
    .where("status", "in", LIVE)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
