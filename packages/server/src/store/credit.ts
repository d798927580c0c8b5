import { type Kysely, type Selectable, sql } from "kysely";
import type { CreditLedgerTable, Database } from "./schema.js";
import { inTransaction } from "./transaction.js";

export type LedgerRow = Selectable<CreditLedgerTable>;

export interface Standing {
  cardBound: boolean;
  balance: number;
}

export async function creditStanding(db: Kysely<Database>, userId: number): Promise<Standing> {
  const row = await db.selectFrom("users").select(["credit_balance", "card_bound"]).where("id", "=", userId).executeTakeFirst();
  return { cardBound: row?.card_bound === 1, balance: row?.credit_balance ?? 0 };
}

/** An admin's grant: adds to the balance and counts as a bound card from then on. */
export async function grantCredit(
  db: Kysely<Database>,
  userId: number,
  amount: number,
  note: string,
  now: number,
): Promise<void> {
  await inTransaction(db, async (trx) => {
    await trx
      .updateTable("users")
      .set({ credit_balance: sql<number>`credit_balance + ${amount}`, card_bound: 1 })
      .where("id", "=", userId)
      .execute();
    await trx
      .insertInto("credit_ledger")
      .values({ user_id: userId, amount, kind: "grant", run_id: null, device_id: null, note, created_at: now })
      .execute();
  });
}

export interface PartCharge {
  runId: number;
  deviceId: number;
  payerId: number;
  payeeId: number;
  amount: number;
  note: string;
}

/**
 * Moves a run part's cost from the run's owner to the device's owner, once: the ledger's
 * unique (run, device, kind) turns a second settlement into a no-op.
 */
export async function settlePartCharge(db: Kysely<Database>, charge: PartCharge, now: number): Promise<boolean> {
  if (charge.amount <= 0 || charge.payerId === charge.payeeId) return false;
  const done = await db
    .selectFrom("credit_ledger")
    .select("id")
    .where("run_id", "=", charge.runId)
    .where("device_id", "=", charge.deviceId)
    .where("kind", "=", "charge")
    .executeTakeFirst();
  if (done) return false;
  await inTransaction(db, async (trx) => {
    const common = { run_id: charge.runId, device_id: charge.deviceId, note: charge.note, created_at: now };
    await trx
      .insertInto("credit_ledger")
      .values({ ...common, user_id: charge.payerId, amount: -charge.amount, kind: "charge" })
      .execute();
    await trx
      .insertInto("credit_ledger")
      .values({ ...common, user_id: charge.payeeId, amount: charge.amount, kind: "earning" })
      .execute();
    await trx
      .updateTable("users")
      .set({ credit_balance: sql<number>`credit_balance - ${charge.amount}` })
      .where("id", "=", charge.payerId)
      .execute();
    await trx
      .updateTable("users")
      .set({ credit_balance: sql<number>`credit_balance + ${charge.amount}` })
      .where("id", "=", charge.payeeId)
      .execute();
  });
  return true;
}

export async function listLedger(db: Kysely<Database>, userId: number, limit = 100): Promise<LedgerRow[]> {
  return db
    .selectFrom("credit_ledger")
    .selectAll()
    .where("user_id", "=", userId)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
}
