import type { DeviceModel, OfferQuery } from "@fedml/core";
import { gpuMatchesType } from "../scheduler/gpu-names.js";

/**
 * The offers a renter asked to see, cheapest first (then most GPUs): devices with a GPU of
 * the model asked for, at most the price, at the provider, in the region. Pure.
 */
export function filterOffers(devices: readonly DeviceModel[], query: OfferQuery): DeviceModel[] {
  const provider = query.provider?.toLowerCase();
  const region = query.region?.toLowerCase();
  return devices
    .filter((d) => query.gpu === undefined || d.gpus.some((g) => gpuMatchesType(g.name, query.gpu as string)))
    .filter((d) => query.maxPrice === undefined || d.pricePerGpuHour <= query.maxPrice)
    .filter((d) => provider === undefined || d.provider.toLowerCase() === provider)
    .filter((d) => region === undefined || d.region.toLowerCase() === region)
    .sort((a, b) => a.pricePerGpuHour - b.pricePerGpuHour || b.gpuCount - a.gpuCount || Number(a.deviceId) - Number(b.deviceId));
}
