/**
 * Contract additions for the GPU marketplace (issue 3): dry runs that list offers, credit,
 * and cost reports. Paths and bodies for the SDK/CLI and the server alike.
 */
export const MarketplacePaths = {
  /** POST a LaunchRequest: the matching offers and the verdict, nothing launched. */
  launchDryRun: "/api/v1/runs/dry-run",
  /** GET: the caller's balance and last ledger entries. */
  myCredit: "/api/v1/me/credit",
  /** POST {amount} (admin only): grant credit to a user by name. */
  userCredit: (name: string) => `/api/v1/users/${encodeURIComponent(name)}/credit`,
  /** GET: the caller's spending by project and provider. */
  costs: "/api/v1/costs",
  /** GET (?gpu, maxPrice, provider): the devices the caller may run on, cheapest first. */
  offers: "/api/v1/offers",
} as const;

/** GET /offers: every filter is optional. */
export interface OfferQuery {
  /** A GPU model, matched as a job's `resource_type` is ("A100" fits "NVIDIA A100-SXM4-80GB"). */
  gpu?: string;
  /** USD per GPU-hour, at most. */
  maxPrice?: number;
  provider?: string;
}

export interface OfferListResponse {
  offerList: import("./models.js").DeviceModel[];
}

/** One device a job could use, as shown before a launch (the original's matched-resource fields). */
export interface MatchedOffer {
  id: string;
  name: string;
  gpuVendor: string;
  gpuType: string;
  gpuName: string;
  totalGpuCount: number;
  /** Free GPUs of the wanted type now. */
  gotGpuCount: number;
  /** GiB of the first matching GPU. */
  gpuMem: number;
  gpuRegion: string;
  gpuProvider: string;
  cpuCount: number;
  /** USD per GPU-hour for the caller (0 on their own devices). */
  cost: number;
  simulated: boolean;
  shared: boolean;
}

export interface DryRunResponse {
  /** The code a launch would answer now: 0, 4, 5, 6, 8, 24. */
  resultCode: number;
  resultMsg: string;
  /** Price-sorted, cheapest first. */
  offers: MatchedOffer[];
  /** The devices a launch would use now, node 0 first; empty unless resultCode is 0. */
  placement: { deviceId: string; gpuIndices: number[]; pricePerGpuHour: number }[];
  /** USD per hour of that placement. */
  pricePerHour: number;
}

export interface CreditGrantRequest {
  /** USD, > 0. */
  amount: number;
}

export interface LedgerEntry {
  amount: number;
  kind: "grant" | "charge" | "earning" | string;
  runId: string | null;
  deviceId: string | null;
  note: string;
  createdTime: number;
}

export interface CreditResponse {
  userName: string;
  balance: number;
  /** Granted credit at least once: paid devices are open to the user. */
  cardBound: boolean;
  ledger: LedgerEntry[];
}

export interface CostLine {
  key: string;
  cost: number;
  runs: number;
  gpuHours: number;
}

/** `fedml cost`: what the caller's runs cost, summed two ways. */
export interface CostReport {
  total: number;
  byProject: CostLine[];
  byProvider: CostLine[];
}
