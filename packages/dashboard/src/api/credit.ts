import type { CostReport, CreditResponse, EarningsReport, SpendByDayResponse } from "@fedml/core";
import { get } from "./client.js";

export const getCredit = (signal?: AbortSignal) => get<CreditResponse>("/me/credit", { signal });
export const getCosts = (signal?: AbortSignal) => get<CostReport>("/costs", { signal });
export const getEarnings = (signal?: AbortSignal) => get<EarningsReport>("/earnings", { signal });

/** The last `days` days, in this browser's time zone. */
export const getSpendByDay = (days: number, signal?: AbortSignal) =>
  get<SpendByDayResponse>("/costs/daily", { query: { days, utcOffsetMinutes: -new Date().getTimezoneOffset() }, signal });
