/**
 * Contract additions for the GPU marketplace: dry runs that list offers, credit,
 * and cost reports. Paths and bodies for the SDK/CLI and the server alike.
 */
import { type Static, Type } from "@sinclair/typebox";
import { DeviceModelSchema } from "./models.js";
import { Amount, Nullable } from "./schema/kit.js";
export const MarketplacePaths = {
  /** POST a LaunchRequest: the matching offers and the verdict, nothing launched. */
  launchDryRun: "/api/v1/runs/dry-run",
  /** GET: the caller's balance and last ledger entries. */
  myCredit: "/api/v1/me/credit",
  /** POST {amount} (admin only): grant credit to a user by name. */
  userCredit: (name: string) => `/api/v1/users/${encodeURIComponent(name)}/credit`,
  /** GET: the caller's spending by project and provider. */
  costs: "/api/v1/costs",
  /** GET (?gpu, maxPrice, provider, region): the devices the caller may run on, cheapest first. */
  offers: "/api/v1/offers",
  /** GET (?days, utcOffsetMinutes): the caller's spending and earnings per day. */
  spendByDay: "/api/v1/costs/daily",
  /** GET: what the caller's devices earned, per device. */
  earnings: "/api/v1/earnings",
} as const;

/** GET /offers: every filter is optional. */
export const OfferQuerySchema = Type.Object({
  /** A GPU model, matched as a job's `resource_type` is ("A100" fits "NVIDIA A100-SXM4-80GB"). */
  gpu: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  /** USD per GPU-hour, at most. */
  maxPrice: Type.Optional(Amount({ minimum: 0 })),
  provider: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  region: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
});
export type OfferQuery = Static<typeof OfferQuerySchema>;

export const OfferListResponseSchema = Type.Object({ offerList: Type.Array(DeviceModelSchema) });
export type OfferListResponse = Static<typeof OfferListResponseSchema>;

/** One device a job could use, as shown before a launch (the original's matched-resource fields). */
export const MatchedOfferSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  gpuVendor: Type.String(),
  gpuType: Type.String(),
  gpuName: Type.String(),
  totalGpuCount: Type.Integer(),
  /** Free GPUs of the wanted type now. */
  gotGpuCount: Type.Integer(),
  /** GiB of the first matching GPU. */
  gpuMem: Type.Number(),
  gpuRegion: Type.String(),
  gpuProvider: Type.String(),
  cpuCount: Type.Integer(),
  /** USD per GPU-hour for the caller (0 on their own devices). */
  cost: Type.Number(),
  simulated: Type.Boolean(),
  shared: Type.Boolean(),
});
export type MatchedOffer = Static<typeof MatchedOfferSchema>;

export const DryRunResponseSchema = Type.Object({
  /** The code a launch would answer now: 0, 4, 5, 6, 8, 24. */
  resultCode: Type.Integer(),
  resultMsg: Type.String(),
  /** Price-sorted, cheapest first. */
  offers: Type.Array(MatchedOfferSchema),
  /** The devices a launch would use now, node 0 first; empty unless resultCode is 0. */
  placement: Type.Array(
    Type.Object({ deviceId: Type.String(), gpuIndices: Type.Array(Type.Integer()), pricePerGpuHour: Type.Number() }),
  ),
  /** USD per hour of that placement. */
  pricePerHour: Type.Number(),
});
export type DryRunResponse = Static<typeof DryRunResponseSchema>;

export const CreditGrantRequestSchema = Type.Object({
  /** USD, > 0. */
  amount: Amount({ exclusiveMinimum: 0, maximum: 1e9 }),
});
export type CreditGrantRequest = Static<typeof CreditGrantRequestSchema>;

export const LedgerEntrySchema = Type.Object({
  amount: Type.Number(),
  /** grant, charge, earning, ... */
  kind: Type.String(),
  runId: Nullable(Type.String()),
  deviceId: Nullable(Type.String()),
  note: Type.String(),
  createdTime: Type.Number(),
});
export type LedgerEntry = Static<typeof LedgerEntrySchema>;

export const CreditResponseSchema = Type.Object({
  userName: Type.String(),
  balance: Type.Number(),
  /** Granted credit at least once: paid devices are open to the user. */
  cardBound: Type.Boolean(),
  ledger: Type.Array(LedgerEntrySchema),
});
export type CreditResponse = Static<typeof CreditResponseSchema>;

export const CostLineSchema = Type.Object({
  key: Type.String(),
  cost: Type.Number(),
  runs: Type.Integer(),
  gpuHours: Type.Number(),
});
export type CostLine = Static<typeof CostLineSchema>;

/** `fedml cost`: what the caller's runs cost, summed two ways. */
export const CostReportSchema = Type.Object({
  total: Type.Number(),
  byProject: Type.Array(CostLineSchema),
  byProvider: Type.Array(CostLineSchema),
});
export type CostReport = Static<typeof CostReportSchema>;

/** GET /costs/daily: the last `days` days (today included), in the caller's time zone. */
export const SpendByDayQuerySchema = Type.Object({
  days: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 })),
  /** Minutes east of UTC of the caller's clock (UTC+2: 120), so that days end at the caller's midnight. */
  utcOffsetMinutes: Type.Optional(Type.Integer({ minimum: -14 * 60, maximum: 14 * 60 })),
});
export type SpendByDayQuery = Static<typeof SpendByDayQuerySchema>;

/** One day of the caller's ledger: what left it (charges, cluster holds) and what came in from their devices. */
export const DaySpendSchema = Type.Object({
  /** YYYY-MM-DD in the caller's time zone. */
  day: Type.String(),
  spent: Type.Number(),
  earned: Type.Number(),
});
export type DaySpend = Static<typeof DaySpendSchema>;

/** Every day of the window, oldest first, days without ledger entries as zeros. */
export const SpendByDayResponseSchema = Type.Object({
  dayList: Type.Array(DaySpendSchema),
  spent: Type.Number(),
  earned: Type.Number(),
});
export type SpendByDayResponse = Static<typeof SpendByDayResponseSchema>;

export const DeviceEarningSchema = Type.Object({
  deviceId: Type.String(),
  /** Null when the device has been removed since. */
  deviceName: Nullable(Type.String()),
  earned: Type.Number(),
  /** Runs that paid for the device (cluster holds count as none). */
  runs: Type.Integer(),
  lastEarnedTime: Type.Number(),
});
export type DeviceEarning = Static<typeof DeviceEarningSchema>;

/** GET /earnings: a provider's income, most earning device first. */
export const EarningsReportSchema = Type.Object({
  total: Type.Number(),
  byDevice: Type.Array(DeviceEarningSchema),
});
export type EarningsReport = Static<typeof EarningsReportSchema>;
