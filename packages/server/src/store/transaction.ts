import { type Kysely, PostgresAdapter, sql } from "kysely";
import type { Database } from "./schema.js";

/**
 * Runs `work` in one database transaction: every write in it lands or none does. Called
 * inside a transaction already, it joins that one, so a multi-row change can be built from
 * smaller ones without committing halfway. On SQLite the transaction begins IMMEDIATE (see
 * db.ts): it takes the write lock at once, so two writers never both read and then collide.
 */
export async function inTransaction<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return work(db);
  let opened: Kysely<Database> | undefined;
  const result = await db.transaction().execute((trx) => {
    opened = trx;
    return work(trx);
  });
  const hooks = opened && committed.get(opened);
  if (hooks) for (const hook of hooks) hook();
  return result;
}

/**
 * Runs reads that must agree with each other (a balance and the ledger it sums) against one
 * snapshot: on PostgreSQL a REPEATABLE READ transaction (each statement of a READ COMMITTED one
 * sees the commits made before it, so a write landing between two reads shows in one and not
 * the other); on SQLite a transaction, which holds the one connection throughout.
 */
export async function inSnapshot<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return work(db);
  if (isPostgres(db)) return db.transaction().setIsolationLevel("repeatable read").execute(work);
  return inTransaction(db, work);
}

/** What runs once each open transaction has committed (never after a rollback). */
const committed = new WeakMap<Kysely<Database>, (() => void)[]>();

/**
 * Runs `hook` once the transaction `trx` has committed (not at all if it rolls back).
 * For work that must see the commit, not the transaction: what is published from it.
 */
export function afterCommit(trx: Kysely<Database>, hook: () => void): void {
  if (!trx.isTransaction) throw new Error("afterCommit needs a transaction");
  const hooks = committed.get(trx);
  if (hooks) hooks.push(hook);
  else committed.set(trx, [hook]);
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
