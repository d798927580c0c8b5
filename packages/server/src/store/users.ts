import type { Kysely, Selectable } from "kysely";
import type { Database, UsersTable } from "./schema.js";

export type UserRow = Selectable<UsersTable>;

export async function findUserByName(db: Kysely<Database>, name: string): Promise<UserRow | undefined> {
  return db.selectFrom("users").selectAll().where("name", "=", name).executeTakeFirst();
}

export async function listUsers(db: Kysely<Database>): Promise<UserRow[]> {
  return db.selectFrom("users").selectAll().orderBy("id").execute();
}

export async function hasAdmin(db: Kysely<Database>): Promise<boolean> {
  const row = await db.selectFrom("users").select("id").where("is_admin", "=", 1).executeTakeFirst();
  return row !== undefined;
}

/** Undefined when the name is taken. */
export async function insertUser(
  db: Kysely<Database>,
  name: string,
  isAdmin: boolean,
  now: number,
): Promise<UserRow | undefined> {
  return db
    .insertInto("users")
    .values({ name, is_admin: isAdmin ? 1 : 0, created_at: now })
    .onConflict((oc) => oc.column("name").doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function insertApiKey(db: Kysely<Database>, userId: number, keyHash: string, now: number): Promise<void> {
  await db.insertInto("api_keys").values({ user_id: userId, key_hash: keyHash, created_at: now }).execute();
}

export async function findUserByKeyHash(db: Kysely<Database>, keyHash: string): Promise<UserRow | undefined> {
  return db
    .selectFrom("api_keys")
    .innerJoin("users", "users.id", "api_keys.user_id")
    .select(["users.id", "users.name", "users.is_admin", "users.created_at", "users.credit_balance_micros", "users.card_bound"])
    .where("api_keys.key_hash", "=", keyHash)
    .executeTakeFirst();
}
