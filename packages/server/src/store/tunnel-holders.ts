import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/** Records that the server at `serverUrl` now holds the device's tunnel (a newer tunnel replaces the record). */
export async function recordTunnelHolder(db: Kysely<Database>, deviceId: number, serverUrl: string, now: number): Promise<void> {
  await db
    .insertInto("tunnel_holders")
    .values({ device_id: deviceId, server_url: serverUrl, attached_at: now })
    .onConflict((oc) => oc.column("device_id").doUpdateSet({ server_url: serverUrl, attached_at: now }))
    .execute();
}

/** Forgets the record, only if it still names `serverUrl` (the tunnel may have moved on). */
export async function forgetTunnelHolder(db: Kysely<Database>, deviceId: number, serverUrl: string): Promise<void> {
  await db.deleteFrom("tunnel_holders").where("device_id", "=", deviceId).where("server_url", "=", serverUrl).execute();
}

export async function findTunnelHolder(db: Kysely<Database>, deviceId: number): Promise<string | undefined> {
  const row = await db.selectFrom("tunnel_holders").select("server_url").where("device_id", "=", deviceId).executeTakeFirst();
  return row?.server_url;
}
