import { RunStatus } from "@fedml/core";

/**
 * Our run statuses as the official client matches them (exact strings). Ours were named
 * after the original's, so the map is one to one; it is spelled out so that a status added
 * on our side fails to compile here until it is given its wire name.
 */
export const WIRE_RUN_STATUS: Readonly<Record<RunStatus, string>> = {
  NOT_STARTED: "NOT_STARTED",
  QUEUED: "QUEUED",
  STARTING: "STARTING",
  RUNNING: "RUNNING",
  STOPPING: "STOPPING",
  KILLED: "KILLED",
  FAILED: "FAILED",
  FINISHED: "FINISHED",
  ABANDONED: "ABANDONED",
  LAUNCHED: "LAUNCHED",
  ERROR: "ERROR",
  BLOCKED: "BLOCKED",
  PRE_QUEUE: "PRE_QUEUE",
  INVALID: "INVALID",
  CLUSTER_QUEUE: "CLUSTER_QUEUE",
  PROVISIONING: "PROVISIONING",
  UNDETERMINED: "UNDETERMINED",
};

export function wireRunStatus(status: string): string {
  return status in RunStatus ? WIRE_RUN_STATUS[status as RunStatus] : RunStatus.UNDETERMINED;
}

/** The client's GPU brand numbers (0 NVIDIA, 1 AMD, 2 Intel, 3 other), read off a GPU's name. */
export function gpuBrand(gpuName: string | undefined): number {
  if (!gpuName) return 3;
  if (/nvidia|geforce|tesla|quadro|rtx|gtx/i.test(gpuName)) return 0;
  if (/amd|radeon|instinct/i.test(gpuName)) return 1;
  if (/intel|\barc\b/i.test(gpuName)) return 2;
  return 3;
}
