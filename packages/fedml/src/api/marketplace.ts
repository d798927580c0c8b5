/** Ours, for the GPU marketplace: dry runs, credit and cost reports (docs/marketplace.md). */
import { resolve } from "node:path";
import {
  type CostReport,
  type CreditGrantRequest,
  type CreditResponse,
  type DryRunResponse,
  type LaunchRequest,
  MarketplacePaths,
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
