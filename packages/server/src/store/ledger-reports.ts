import { type Kysely, sql } from "kysely";
import type { Database } from "./schema.js";

export const DAY_MS = 86_400_000;

export interface LedgerDay {
  /** Days since 1970-01-01 in the caller's time zone. */
  dayIndex: number;
  spentMicros: number;
  earnedMicros: number;
}

/**
 * The user's ledger summed per day from `fromMs` on, in the database: spent is every entry
 * that took credit away (charges, cluster holds), earned every payment to their devices.
 * `offsetMs` moves midnight to the caller's time zone.
 */
export async function sumLedgerPerDay(
  db: Kysely<Database>,
  userId: number,
  window: { fromMs: number; offsetMs: number },
): Promise<LedgerDay[]> {
  // A literal, not a parameter: PostgreSQL matches the select's and the group's expressions
  // only when they are the same text, and two parameters ($1, $3) are not.
  const day = sql<number>`cast((created_at + ${sql.lit(Math.trunc(window.offsetMs))}) / ${sql.lit(DAY_MS)} as integer)`;
  const rows = await db
    .selectFrom("credit_ledger")
    .select([
      day.as("day_index"),
      sql<number>`sum(case when amount_micros < 0 then -amount_micros else 0 end)`.as("spent"),
      sql<number>`sum(case when kind = 'earning' then amount_micros else 0 end)`.as("earned"),
    ])
    .where("user_id", "=", userId)
    .where("created_at", ">=", window.fromMs)
    .groupBy(day)
    .orderBy(day)
    .execute();
  // PostgreSQL answers sums of bigint as numeric, i.e. text.
  return rows.map((r) => ({ dayIndex: Number(r.day_index), spentMicros: Number(r.spent), earnedMicros: Number(r.earned) }));
}

export interface DeviceEarningRow {
  deviceId: number;
  deviceName: string | null;
  earnedMicros: number;
  runs: number;
  lastEarnedAt: number;
}

/** What each of the user's devices earned, most first, summed in the database. */
export async function sumEarningsPerDevice(db: Kysely<Database>, userId: number): Promise<DeviceEarningRow[]> {
  const rows = await db
    .selectFrom("credit_ledger")
    .leftJoin("devices", "devices.id", "credit_ledger.device_id")
    .select((eb) => [
      "credit_ledger.device_id",
      eb.fn.max("devices.name").as("device_name"),
      eb.fn.sum<number>("credit_ledger.amount_micros").as("earned"),
      eb.fn.count<number>("credit_ledger.run_id").distinct().as("runs"),
      eb.fn.max("credit_ledger.created_at").as("last_at"),
    ])
    .where("credit_ledger.user_id", "=", userId)
    .where("credit_ledger.kind", "=", "earning")
    .where("credit_ledger.device_id", "is not", null)
    .groupBy("credit_ledger.device_id")
    .execute();
  return rows
    .map((r) => ({
      deviceId: Number(r.device_id),
      deviceName: r.device_name ?? null,
      earnedMicros: Number(r.earned),
      runs: Number(r.runs),
      lastEarnedAt: Number(r.last_at),
    }))
    .sort((a, b) => b.earnedMicros - a.earnedMicros || a.deviceId - b.deviceId);
}
