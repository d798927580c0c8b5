import { type EarningsReport, type SpendByDayResponse, fromMicros } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { DAY_MS, type LedgerDay, sumEarningsPerDevice, sumLedgerPerDay } from "../store/ledger-reports.js";

export const DEFAULT_SPEND_DAYS = 30;

/** Every day of the window ending on `todayIndex`, oldest first, missing days as zeros. Pure. */
export function fillDays(rows: readonly LedgerDay[], todayIndex: number, days: number): SpendByDayResponse {
  const byIndex = new Map(rows.map((r) => [r.dayIndex, r]));
  const dayList = [];
  let spent = 0;
  let earned = 0;
  for (let index = todayIndex - days + 1; index <= todayIndex; index++) {
    const row = byIndex.get(index);
    spent += row?.spentMicros ?? 0;
    earned += row?.earnedMicros ?? 0;
    dayList.push({
      day: new Date(index * DAY_MS).toISOString().slice(0, 10),
      spent: fromMicros(row?.spentMicros ?? 0),
      earned: fromMicros(row?.earnedMicros ?? 0),
    });
  }
  return { dayList, spent: fromMicros(spent), earned: fromMicros(earned) };
}

/** The user's spending and earnings on each of the last `days` days, in their time zone. */
export async function spendByDay(
  ctx: ServerContext,
  userId: number,
  query: { days?: number; utcOffsetMinutes?: number },
): Promise<SpendByDayResponse> {
  const days = query.days ?? DEFAULT_SPEND_DAYS;
  const offsetMs = (query.utcOffsetMinutes ?? 0) * 60_000;
  const todayIndex = Math.floor((ctx.now() + offsetMs) / DAY_MS);
  const fromMs = (todayIndex - days + 1) * DAY_MS - offsetMs;
  return fillDays(await sumLedgerPerDay(ctx.db, userId, { fromMs, offsetMs }), todayIndex, days);
}

/** What the user's devices earned from others' runs and cluster holds. */
export async function earningsReport(ctx: ServerContext, userId: number): Promise<EarningsReport> {
  const rows = await sumEarningsPerDevice(ctx.db, userId);
  return {
    total: fromMicros(rows.reduce((sum, r) => sum + r.earnedMicros, 0)),
    byDevice: rows.map((r) => ({
      deviceId: String(r.deviceId),
      deviceName: r.deviceName,
      earned: fromMicros(r.earnedMicros),
      runs: r.runs,
      lastEarnedTime: r.lastEarnedAt,
    })),
  };
}
