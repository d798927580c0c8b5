import type { DeviceListResponse, DryRunResponse, OfferListResponse, OfferQuery } from "@fedml/core";
import { get, post } from "./client.js";

/** The caller's devices (admins: every user's, with `allUsers`). */
export const listDevices = (options: { allUsers?: boolean; signal?: AbortSignal } = {}) =>
  get<DeviceListResponse>("/devices", { query: { allUsers: options.allUsers || undefined }, signal: options.signal });

/** Every device the caller may run on now, cheapest first, filtered by the server as `fedml offers` is. */
export const listOffers = (filter: OfferQuery, signal?: AbortSignal) =>
  get<OfferListResponse>("/offers", {
    query: { gpu: filter.gpu, provider: filter.provider, region: filter.region, maxPrice: filter.maxPrice },
    signal,
  });

/** What launching this YAML would do now, and where: nothing is stored or uploaded. */
export const dryRun = (yamlText: string) =>
  post<DryRunResponse>("/runs/dry-run", { body: { yamlText, yamlPath: "job.yaml", workspaceSha256: null } });
