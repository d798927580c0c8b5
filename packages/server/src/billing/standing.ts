import type { Kysely } from "kysely";
import { readBalance, readBalances } from "../store/credit.js";
import { listOpenReservations } from "../store/reservations.js";
import { listBillingParts } from "../store/runs.js";
import type { Database } from "../store/schema.js";
import { hourlyCommitment } from "./commitments.js";

export interface Standing {
  cardBound: boolean;
  balanceMicros: number;
  /** Micro-dollars per hour of everything that bills now (running parts, held devices): a new placement comes on top. */
  committedMicrosPerHour: number;
}

/** The user's credit as the matcher checks it. */
export async function creditStanding(db: Kysely<Database>, userId: number): Promise<Standing> {
  const committedMicrosPerHour = hourlyCommitment(await listBillingParts(db, userId), await listOpenReservations(db, userId));
  return { ...(await readBalance(db, userId)), committedMicrosPerHour };
}

/** creditStanding of many users in three queries (a queue pass checks every owner it serves). */
export async function creditStandings(db: Kysely<Database>, userIds: readonly number[]): Promise<Map<number, Standing>> {
  const ids = [...new Set(userIds)];
  const standings = new Map<number, Standing>();
  if (ids.length === 0) return standings;
  const parts = groupBy(await listBillingParts(db, ids), (p) => p.owner_id);
  const holds = groupBy(await listOpenReservations(db, ids), (h) => h.payer_id);
  const balances = await readBalances(db, ids);
  for (const userId of ids) {
    const balance = balances.get(userId) ?? { cardBound: false, balanceMicros: 0 };
    const committedMicrosPerHour = hourlyCommitment(parts.get(userId) ?? [], holds.get(userId) ?? []);
    standings.set(userId, { ...balance, committedMicrosPerHour });
  }
  return standings;
}

/** Rows by a numeric key (an owner, a payer), each group in the rows' order. */
export function groupBy<T>(rows: readonly T[], key: (row: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const row of rows) {
    const list = groups.get(key(row));
    if (list) list.push(row);
    else groups.set(key(row), [row]);
  }
  return groups;
}
