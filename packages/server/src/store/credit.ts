import { type Kysely, type Selectable, sql } from "kysely";
import { type ReservationRow, endReservation } from "./reservations.js";
import { preparedRead } from "./prepared.js";
import type { CreditLedgerTable, Database } from "./schema.js";
import { inTransaction } from "./transaction.js";

export type LedgerRow = Selectable<CreditLedgerTable>;

export interface Balance {
  cardBound: boolean;
  balanceMicros: number;
}

const balanceOf = preparedRead((db, userId: number) =>
  db.selectFrom("users").select(["credit_balance_micros", "card_bound"]).where("id", "=", userId),
);

export async function readBalance(db: Kysely<Database>, userId: number): Promise<Balance> {
  const [row] = await balanceOf(db, userId);
  return { cardBound: row?.card_bound === 1, balanceMicros: row?.credit_balance_micros ?? 0 };
}

/** readBalance of many users at once; a user not found is left out. */
export async function readBalances(db: Kysely<Database>, userIds: readonly number[]): Promise<Map<number, Balance>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom("users")
    .select(["id", "credit_balance_micros", "card_bound"])
    .where("id", "in", [...userIds])
    .execute();
  return new Map(rows.map((row) => [row.id, { cardBound: row.card_bound === 1, balanceMicros: row.credit_balance_micros }]));
}

/** An admin's grant: adds to the balance and counts as a bound card from then on. */
export async function grantCredit(
  db: Kysely<Database>,
  userId: number,
  amountMicros: number,
  note: string,
  now: number,
): Promise<void> {
  await inTransaction(db, async (trx) => {
    await trx
      .updateTable("users")
      .set({ credit_balance_micros: sql<number>`credit_balance_micros + ${amountMicros}`, card_bound: 1 })
      .where("id", "=", userId)
      .execute();
    await trx
      .insertInto("credit_ledger")
      .values({
        user_id: userId,
        amount_micros: amountMicros,
        kind: "grant",
        run_id: null,
        device_id: null,
        note,
        created_at: now,
      })
      .execute();
  });
}

export interface PartCharge {
  runId: number;
  deviceId: number;
  payerId: number;
  payeeId: number;
  amountMicros: number;
  note: string;
}

/**
 * Moves a run part's cost from the run's owner to the device's owner, once: the ledger's
 * unique (run, device, kind) turns a second settlement into a no-op.
 */
export async function settlePartCharge(db: Kysely<Database>, charge: PartCharge, now: number): Promise<boolean> {
  if (charge.amountMicros <= 0 || charge.payerId === charge.payeeId) return false;
  const done = await db
    .selectFrom("credit_ledger")
    .select("id")
    .where("run_id", "=", charge.runId)
    .where("device_id", "=", charge.deviceId)
    .where("kind", "=", "charge")
    .executeTakeFirst();
  if (done) return false;
  await inTransaction(db, async (trx) => {
    await moveCredit(trx, { ...charge, kind: "charge" }, now);
  });
  return true;
}

/** One movement of credit from payer to payee, written as two ledger entries (inside the caller's transaction). */
async function moveCredit(
  trx: Kysely<Database>,
  m: {
    payerId: number;
    payeeId: number;
    amountMicros: number;
    runId: number | null;
    deviceId: number;
    note: string;
    kind: string;
  },
  now: number,
): Promise<void> {
  const common = { run_id: m.runId, device_id: m.deviceId, note: m.note, created_at: now };
  await trx
    .insertInto("credit_ledger")
    .values({ ...common, user_id: m.payerId, amount_micros: -m.amountMicros, kind: m.kind })
    .execute();
  await trx
    .insertInto("credit_ledger")
    .values({ ...common, user_id: m.payeeId, amount_micros: m.amountMicros, kind: "earning" })
    .execute();
  await trx
    .updateTable("users")
    .set({ credit_balance_micros: sql<number>`credit_balance_micros - ${m.amountMicros}` })
    .where("id", "=", m.payerId)
    .execute();
  await trx
    .updateTable("users")
    .set({ credit_balance_micros: sql<number>`credit_balance_micros + ${m.amountMicros}` })
    .where("id", "=", m.payeeId)
    .execute();
}

/**
 * Ends a cluster's hold on a device and charges `amountMicros` for it, once: the hold's conditional
 * end decides who charges. False when it had ended already.
 */
export async function chargeHold(
  db: Kysely<Database>,
  hold: ReservationRow,
  amountMicros: number,
  now: number,
): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    if (!(await endReservation(trx, hold.id, now))) return false;
    if (amountMicros > 0) {
      const note = `cluster ${hold.cluster_id} held device ${hold.device_id}`;
      await moveCredit(
        trx,
        {
          payerId: hold.payer_id,
          payeeId: hold.payee_id,
          amountMicros,
          runId: null,
          deviceId: hold.device_id,
          note,
          kind: "reservation",
        },
        now,
      );
    }
    return true;
  });
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
