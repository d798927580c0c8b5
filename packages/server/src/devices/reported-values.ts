/**
 * Bounds on what a provider's agent reports. A device owner is paid from what their agent
 * says, and the server stores and shows it to others, so every number is checked against a
 * sane range and every text is bounded. Pure: each check answers the value to store or
 * throws a one-line 400.
 */
import { type DeviceFacts, FedmlError, ResultCode, type RunStatusReport } from "@fedml/core";

export const REPORTED_LIMITS = {
  text: 200,
  reason: 1000,
  // A batch cluster (a Slurm partition) is one device with all its GPUs.
  gpus: 1024,
  clusterNodes: 100_000,
  gpuIndex: 1023,
  gpuMemoryMiB: 16 * 1024 * 1024,
  cpuCount: 65_536,
  memoryBytes: 2 ** 50,
  maxJobs: 1024,
  /** USD per GPU-hour. */
  price: 1000,
  /** Exit codes are stored in a 32-bit column. */
  exitCode: 2_147_483_647,
} as const;

function invalid(what: string): never {
  throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, what, 400);
}

function wholeIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    invalid(`${name} must be a whole number from ${min} to ${max}, not ${value}`);
  return value;
}

function numberIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max) invalid(`${name} must be from ${min} to ${max}, not ${value}`);
  return value;
}

function text(name: string, value: string, max: number = REPORTED_LIMITS.text): string {
  if (value.length > max) invalid(`${name} is longer than ${max} characters`);
  return value;
}

/** The facts a device reports on bind and hello, checked. */
export function checkFacts(facts: DeviceFacts): DeviceFacts {
  const L = REPORTED_LIMITS;
  for (const key of ["name", "hostname", "osType", "osVersion", "agentVersion", "address", "provider", "region"] as const) {
    text(key, facts[key]);
  }
  if (facts.gpuError) text("gpuError", facts.gpuError, L.reason);
  // Fractions are tolerated (the store keeps the whole part), out-of-range values are not.
  numberIn("cpuCount", facts.cpuCount, 0, L.cpuCount);
  numberIn("memoryBytes", facts.memoryBytes, 0, L.memoryBytes);
  numberIn("maxJobs", facts.maxJobs, 1, L.maxJobs);
  numberIn("pricePerGpuHour", facts.pricePerGpuHour, 0, L.price);
  if (facts.gpus.length > L.gpus) invalid(`a device reports at most ${L.gpus} GPUs, not ${facts.gpus.length}`);
  const seen = new Set<number>();
  for (const gpu of facts.gpus) {
    wholeIn("GPU index", gpu.index, 0, L.gpuIndex);
    if (seen.has(gpu.index)) invalid(`GPU index ${gpu.index} is reported twice`);
    seen.add(gpu.index);
    text("GPU name", gpu.name);
    numberIn("GPU memoryMiB", gpu.memoryMiB, 0, L.gpuMemoryMiB);
    if (gpu.uuid !== undefined) text("GPU uuid", gpu.uuid);
    if (gpu.utilization !== undefined) numberIn("GPU utilization", gpu.utilization, 0, 100);
    if (gpu.memoryUsedMiB !== undefined) numberIn("GPU memoryUsedMiB", gpu.memoryUsedMiB, 0, L.gpuMemoryMiB);
  }
  const nodes = facts.clusterNodes ?? [];
  if (nodes.length > L.clusterNodes) invalid(`a device reports at most ${L.clusterNodes} cluster nodes, not ${nodes.length}`);
  for (const node of nodes) {
    text("cluster node name", node.name);
    text("cluster node state", node.state);
    if (node.reason) text("cluster node reason", node.reason, L.reason);
  }
  return facts;
}

/**
 * A status report, checked: the exit code must fit its column; an over-long reason is cut
 * (not refused: a refused final report would leave the part running forever); a runtime must
 * be a non-negative number of ms.
 */
export function checkStatusReport(report: RunStatusReport): RunStatusReport {
  const L = REPORTED_LIMITS;
  if (report.exitCode !== undefined && report.exitCode !== null)
    wholeIn("exitCode", report.exitCode, -L.exitCode - 1, L.exitCode);
  if (report.runtimeMs !== undefined && report.runtimeMs !== null)
    numberIn("runtimeMs", report.runtimeMs, 0, Number.MAX_SAFE_INTEGER);
  const reason =
    typeof report.reason === "string" && report.reason.length > L.reason
      ? `${report.reason.slice(0, L.reason - 1)}…`
      : report.reason;
  return { ...report, reason };
}
