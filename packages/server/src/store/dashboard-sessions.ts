import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export async function insertDashboardSession(
  db: Kysely<Database>,
  session: { tokenHash: string; keyHash: string; now: number; expiresAt: number },
): Promise<void> {
  await db
    .insertInto("dashboard_sessions")
    .values({ token_hash: session.tokenHash, key_hash: session.keyHash, created_at: session.now, expires_at: session.expiresAt })
    .execute();
}

/** The hash of the API key a live session stands for; undefined when unknown or expired. */
export async function sessionKeyHash(db: Kysely<Database>, tokenHash: string, now: number): Promise<string | undefined> {
  const row = await db
    .selectFrom("dashboard_sessions")
    .select("key_hash")
    .where("token_hash", "=", tokenHash)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return row?.key_hash;
}

export async function deleteDashboardSession(db: Kysely<Database>, tokenHash: string): Promise<void> {
  await db.deleteFrom("dashboard_sessions").where("token_hash", "=", tokenHash).execute();
}

export async function deleteExpiredDashboardSessions(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom("dashboard_sessions").where("expires_at", "<=", now).execute();
}
