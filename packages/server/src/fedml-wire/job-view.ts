import type { FedMLRunModel } from "@fedml/core";
import { gpuBrand, wireRunStatus } from "./status-map.js";

/** The client parses times with "%Y-%m-%dT%H:%M:%S" (a trailing Z allowed). */
export function wireTime(epochMs: number | null): string | null {
  return epochMs === null ? null : `${new Date(epochMs).toISOString().slice(0, 19)}Z`;
}

/** One run as queryJobList's `jobList` entry. Pure. */
export function toWireJob(run: FedMLRunModel, gpuNameOf: (deviceId: string) => string | undefined) {
  return {
    id: run.runId,
    name: run.runName,
    status: wireRunStatus(run.status),
    createTime: wireTime(run.createdTime),
    endTime: wireTime(run.endedTime),
    spendTime: run.runningTime,
    cost: run.cost,
    jobUrl: run.runUrl,
    gpuMachines: run.deviceInfos.map((d) => ({
      deviceId: d.deviceId,
      gpuCount: d.gpuCount,
      brand: gpuBrand(gpuNameOf(d.deviceId)),
      osType: d.osType,
      osVersion: d.osVersion,
    })),
  };
}
