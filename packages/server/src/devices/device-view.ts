import { type DeviceModel, DeviceStatus, fromMicros } from "@fedml/core";
import { parseGpus } from "../scheduler/capacity.js";
import { decodeClusterNodes } from "../store/json-columns.js";
import type { DeviceRow } from "../store/devices.js";

/** A stored device as `fedml device list` shows it. Pure. */
export function toDeviceModel(device: DeviceRow, ownerName: string, runningRunIds: number[]): DeviceModel {
  const gpus = parseGpus(device.gpus_json);
  const status =
    device.status === DeviceStatus.OFFLINE
      ? DeviceStatus.OFFLINE
      : runningRunIds.length > 0
        ? DeviceStatus.RUNNING
        : DeviceStatus.IDLE;
  return {
    deviceId: String(device.id),
    name: device.name,
    status,
    osType: device.os_type,
    osVersion: device.os_version,
    hostname: device.hostname,
    cpuCount: device.cpu_count,
    memoryBytes: device.memory_bytes,
    gpus,
    gpuCount: gpus.length,
    provider: device.provider,
    region: device.region,
    pricePerGpuHour: fromMicros(device.price_per_gpu_hour_micros),
    shared: device.shared === 1,
    simulated: device.simulated === 1,
    ownerName,
    lastSeenTime: device.last_seen_at,
    runningRunIds: runningRunIds.map(String),
    gpuError: device.gpu_error,
    ...(device.cluster_nodes_json ? { clusterNodes: decodeClusterNodes(device.cluster_nodes_json) } : {}),
  };
}
