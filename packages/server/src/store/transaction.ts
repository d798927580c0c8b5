import { type Kysely, PostgresAdapter, sql } from "kysely";
import type { Database } from "./schema.js";

/**
 * Runs `work` in one database transaction: every write in it lands or none does. Called
 * inside a transaction already, it joins that one, so a multi-row change can be built from
 * smaller ones without committing halfway. On SQLite the transaction begins IMMEDIATE (see
 * db.ts): it takes the write lock at once, so two writers never both read and then collide.
 */
export function inTransaction<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}

export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Any constant: the key of the one advisory lock every placement takes. It is what keeps two
 * server processes on one PostgreSQL from handing out the same GPU.
 */
const PLACEMENT_LOCK_KEY = 7_202_611;

/**
 * Serialises placement across every process sharing the database, until the transaction
 * ends. PostgreSQL: a transaction-scoped advisory lock. SQLite: the IMMEDIATE transaction
 * already holds the database's one write lock, so nothing more is needed.
 */
export async function takePlacementLock(trx: Kysely<Database>): Promise<void> {
  if (!trx.isTransaction) throw new Error("the placement lock is taken inside a transaction");
  if (isPostgres(trx)) await sql`select pg_advisory_xact_lock(${PLACEMENT_LOCK_KEY})`.execute(trx);
}

/**
 * takePlacementLock without waiting: false when another transaction (here or in another
 * process) holds it. The queue loop uses it so that replicas do not queue up to repeat the
 * pass one of them is doing. SQLite: the IMMEDIATE transaction holds the write lock already.
 */
export async function tryPlacementLock(trx: Kysely<Database>): Promise<boolean> {
  if (!trx.isTransaction) throw new Error("the placement lock is taken inside a transaction");
  if (!isPostgres(trx)) return true;
  const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${PLACEMENT_LOCK_KEY}) as locked`.execute(trx);
  return rows[0]?.locked === true;
}
