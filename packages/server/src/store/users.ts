import type { Kysely, Selectable } from "kysely";
import { preparedRead } from "./prepared.js";
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

export async function insertApiKey(
  db: Kysely<Database>,
  userId: number,
  keyHash: string,
  now: number,
  expiresAt: number | null = null,
): Promise<void> {
  await db
    .insertInto("api_keys")
    .values({ user_id: userId, key_hash: keyHash, created_at: now, expires_at: expiresAt })
    .execute();
}

/** The key's user, unless the key has expired or the user is disabled. */
export async function findUserByKeyHash(db: Kysely<Database>, keyHash: string, now = Date.now()): Promise<UserRow | undefined> {
  return (await findKeyHolder(db, keyHash, now))?.user;
}

/** findUserByKeyHash with the key's expiry (null: none). */
export async function findKeyHolder(
  db: Kysely<Database>,
  keyHash: string,
  now = Date.now(),
): Promise<{ user: UserRow; expiresAt: number | null } | undefined> {
  const row = (await userByKeyHash(db, keyHash, now))[0];
  if (!row) return undefined;
  const { key_expires_at, ...user } = row;
  return { user, expiresAt: key_expires_at };
}

const userByKeyHash = preparedRead((db, keyHash: string, now: number) =>
  db
    .selectFrom("api_keys")
    .innerJoin("users", "users.id", "api_keys.user_id")
    .select([
      "users.id",
      "users.name",
      "users.is_admin",
      "users.created_at",
      "users.credit_balance_micros",
      "users.card_bound",
      "users.disabled",
      "api_keys.expires_at as key_expires_at",
    ])
    .where("api_keys.key_hash", "=", keyHash)
    .where("users.disabled", "=", 0)
    .where((eb) => eb.or([eb("api_keys.expires_at", "is", null), eb("api_keys.expires_at", ">", now)])),
);

/** Removes every key of the user; answers how many there were. */
export async function deleteApiKeys(db: Kysely<Database>, userId: number): Promise<number> {
  const result = await db.deleteFrom("api_keys").where("user_id", "=", userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** One transaction, so that the user is never left with no key or with both. */
export async function replaceApiKeys(
  db: Kysely<Database>,
  userId: number,
  keyHash: string,
  now: number,
  expiresAt: number | null,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await deleteApiKeys(trx, userId);
    await insertApiKey(trx, userId, keyHash, now, expiresAt);
  });
}

export async function setUserDisabled(db: Kysely<Database>, userId: number, disabled: boolean): Promise<UserRow | undefined> {
  return db
    .updateTable("users")
    .set({ disabled: disabled ? 1 : 0 })
    .where("id", "=", userId)
    .returningAll()
    .executeTakeFirst();
}

/** Keys each user holds that have not expired (absent: none). */
export async function countActiveKeysPerUser(db: Kysely<Database>, now: number): Promise<Map<number, number>> {
  const rows = await db
    .selectFrom("api_keys")
    .select((eb) => ["user_id", eb.fn.countAll<number>().as("keys")])
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
    .groupBy("user_id")
    .execute();
  return new Map(rows.map((r) => [r.user_id, Number(r.keys)]));
}
