/** Ours, for the GPU marketplace: dry runs, credit and cost reports (docs/marketplace.md). */
import { resolve } from "node:path";
import {
  type CostReport,
  type CreditGrantRequest,
  type CreditResponse,
  type DryRunResponse,
  type EarningsReport,
  type LaunchRequest,
  MarketplacePaths,
  type OfferListResponse,
  type SpendByDayResponse,
  readJobYaml,
} from "@fedml/core";
import { request } from "../http.js";
import { type ApiOptions, resolveEndpoint } from "./connection.js";

export interface DryRunOptions extends ApiOptions {
  resourceId?: string | null;
}

/**
 * What `launchJob(yamlFile)` would do now, without launching or uploading anything: the
 * result code it would answer and every device that fits, cheapest first.
 *
 * @returns `{ resultCode, resultMsg, offers: MatchedOffer[], placement, pricePerHour }`.
 */
export async function launchDryRun(yamlFile: string, options: DryRunOptions = {}): Promise<DryRunResponse> {
  const yamlPath = resolve(yamlFile);
  const { text } = await readJobYaml(yamlPath);
  const endpoint = await resolveEndpoint(options);
  const body: LaunchRequest = { yamlText: text, yamlPath, workspaceSha256: null, resourceId: options.resourceId ?? null };
  return request<DryRunResponse>("POST", MarketplacePaths.launchDryRun, endpoint, { body });
}

/**
 * Admins: grant `amount` USD of credit to user `name`. A user granted credit once counts as
 * having a card bound (paid devices open to them).
 *
 * @returns the user's `CreditResponse` after the grant.
 */
export async function userCredit(name: string, amount: number, options: ApiOptions = {}): Promise<CreditResponse> {
  const endpoint = await resolveEndpoint(options);
  const body: CreditGrantRequest = { amount };
  return request<CreditResponse>("POST", MarketplacePaths.userCredit(name), endpoint, { body });
}

/** Your balance, whether paid devices are open to you, and your last ledger entries. */
export async function creditBalance(options: ApiOptions = {}): Promise<CreditResponse> {
  const endpoint = await resolveEndpoint(options);
  return request<CreditResponse>("GET", MarketplacePaths.myCredit, endpoint);
}

/** What your runs cost, in total and by project and provider. */
export async function costReport(options: ApiOptions = {}): Promise<CostReport> {
  const endpoint = await resolveEndpoint(options);
  return request<CostReport>("GET", MarketplacePaths.costs, endpoint);
}

export interface OfferListOptions extends ApiOptions {
  /** A GPU model, matched as a job's `resource_type` is ("A100" fits "NVIDIA A100-SXM4-80GB"). */
  gpu?: string | null;
  /** USD per GPU-hour, at most. */
  maxPrice?: number | null;
  /** Only this provider's devices. */
  provider?: string | null;
  /** Only devices in this region. */
  region?: string | null;
}

/**
 * The offers you may run on now (your devices and shared ones, online), cheapest first, without
 * writing a job YAML (as `sky show-gpus` or `dstack offer`).
 *
 * @returns `{ offerList: DeviceModel[] }`.
 */
export async function offerList(options: OfferListOptions = {}): Promise<OfferListResponse> {
  const endpoint = await resolveEndpoint(options);
  return request<OfferListResponse>("GET", MarketplacePaths.offers, endpoint, {
    query: {
      gpu: options.gpu ?? undefined,
      maxPrice: options.maxPrice ?? undefined,
      provider: options.provider ?? undefined,
      region: options.region ?? undefined,
    },
  });
}

export interface SpendByDayOptions extends ApiOptions {
  /** How many days, today included (default 30, at most 366). */
  days?: number | null;
  /** Minutes east of UTC where days begin (default: this machine's time zone). */
  utcOffsetMinutes?: number | null;
}

/**
 * What left your balance (run charges, cluster holds) and what your devices earned, on each of
 * the last `days` days, oldest first; days without entries are zeros.
 *
 * @returns `{ dayList: [{ day, spent, earned }], spent, earned }`.
 */
export async function spendByDay(options: SpendByDayOptions = {}): Promise<SpendByDayResponse> {
  const endpoint = await resolveEndpoint(options);
  return request<SpendByDayResponse>("GET", MarketplacePaths.spendByDay, endpoint, {
    query: {
      days: options.days ?? undefined,
      utcOffsetMinutes: options.utcOffsetMinutes ?? -new Date().getTimezoneOffset(),
    },
  });
}

/**
 * Providers: what each of your devices earned from other users' runs and cluster holds.
 *
 * @returns `{ total, byDevice: [{ deviceId, deviceName, earned, runs, lastEarnedTime }] }`.
 */
export async function earningsReport(options: ApiOptions = {}): Promise<EarningsReport> {
  const endpoint = await resolveEndpoint(options);
  return request<EarningsReport>("GET", MarketplacePaths.earnings, endpoint);
}
