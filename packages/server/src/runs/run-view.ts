import { type DeviceInfo, type FedMLRunModel, fromMicros } from "@fedml/core";
import { parseIndices } from "../scheduler/capacity.js";
import type { DeviceRow } from "../store/devices.js";
import type { RunDeviceRow, RunRow } from "../store/runs.js";
import { partCost } from "../billing/part-cost.js";

const HOUR_MS = 3_600_000;
const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

export interface RunViewInputs {
  run: RunRow;
  parts: RunDeviceRow[];
  devicesById: Map<number, DeviceRow>;
  projectName: string;
  publicUrl: string;
  now: number;
}

/** A stored run as the SDK's FedMLRunModel. Pure. */
export function toRunModel({ run, parts, devicesById, projectName, publicUrl, now }: RunViewInputs): FedMLRunModel {
  const runningTime = run.started_at === null ? 0 : Math.max(0, (run.ended_at ?? now) - run.started_at);
  const cost = parts.reduce((sum, p) => sum + partCost({ ...p, ended_at: p.ended_at ?? run.ended_at }, now), 0);
  const deviceInfos: DeviceInfo[] = parts.map((p) => {
    const device = devicesById.get(p.device_id);
    const gpuIndices = parseIndices(p.gpu_indices_json);
    return {
      deviceId: String(p.device_id),
      gpuCount: gpuIndices.length,
      osType: device?.os_type ?? "",
      osVersion: device?.os_version ?? "",
      name: device?.name ?? String(p.device_id),
      rank: p.rank,
      status: p.status,
      gpuIndices,
      exitCode: p.exit_code,
    };
  });
  return {
    runId: String(run.id),
    runName: run.name,
    status: run.status,
    startedTime: run.started_at,
    endedTime: run.ended_at,
    runningTime,
    computeDuration: round(runningTime / HOUR_MS, 4),
    cost: fromMicros(cost),
    runUrl: `${publicUrl}/runs/${run.id}`,
    deviceInfos,
    projectId: String(run.project_id),
    projectName,
    jobType: run.job_type,
    platform: run.platform,
    createdTime: run.created_at,
    exitCode: run.exit_code,
    reason: run.reason,
  };
}
