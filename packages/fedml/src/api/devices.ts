import { type DeviceListResponse, Paths } from "@fedml/core";
import { request } from "../http.js";
import { type ApiOptions, resolveEndpoint } from "./connection.js";

export type { DeviceListResponse };

/**
 * Ours: your devices (bound machines), with their GPUs, status and price.
 *
 * @returns `{ deviceList: DeviceModel[] }`.
 */
export async function deviceList(options: DeviceListOptions = {}): Promise<DeviceListResponse> {
  const endpoint = await resolveEndpoint(options);
  return request<DeviceListResponse>("GET", Paths.devices, endpoint, {
    query: { allUsers: options.allUsers ? true : undefined },
  });
}

export interface DeviceListOptions extends ApiOptions {
  /** Admins only: every user's devices, not only yours. */
  allUsers?: boolean;
}
