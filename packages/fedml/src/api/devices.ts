import { type DeviceListResponse, Paths } from "@fedml/core";
import { request } from "../http.js";
import { type ApiOptions, resolveEndpoint } from "./connection.js";

export type { DeviceListResponse };

/**
 * Ours: the devices (bound machines) you may run on, with their GPUs, status and price.
 *
 * @returns `{ deviceList: DeviceModel[] }`.
 */
export async function deviceList(options: ApiOptions = {}): Promise<DeviceListResponse> {
  const endpoint = await resolveEndpoint(options);
  return request<DeviceListResponse>("GET", Paths.devices, endpoint);
}
