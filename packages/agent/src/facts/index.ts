/** Everything the agent tells the server about its machine. */
import type { DeviceFacts } from "@fedml/core/contract";
import type { AgentConfig } from "../config.js";
import { AGENT_VERSION } from "../version.js";
import { detectNvidiaGpus, type GpuDetection } from "./gpus.js";
import { parseSimulatedGpus } from "./simulated-gpus.js";
import { advertisedAddress, systemFacts } from "./system.js";

export type FactsConfig = Pick<
  AgentConfig,
  "name" | "provider" | "region" | "pricePerGpuHour" | "shared" | "simulateGpus" | "maxJobs" | "address"
>;

export interface DetectOptions {
  /** The nvidia-smi binary (tests point it at a fake). */
  nvidiaSmi?: string;
}

export async function detectFacts(config: FactsConfig, options: DetectOptions = {}): Promise<DeviceFacts> {
  const system = systemFacts();
  const simulated = Boolean(config.simulateGpus);
  const detection: GpuDetection = config.simulateGpus
    ? { gpus: parseSimulatedGpus(config.simulateGpus), error: null }
    : await detectNvidiaGpus(options.nvidiaSmi ?? process.env.FEDML_NVIDIA_SMI ?? "nvidia-smi");
  return {
    name: config.name || system.hostname,
    hostname: system.hostname,
    osType: system.osType,
    osVersion: system.osVersion,
    cpuCount: system.cpuCount,
    memoryBytes: system.memoryBytes,
    gpus: detection.gpus,
    gpuError: detection.error,
    agentVersion: AGENT_VERSION,
    address: advertisedAddress(config.address),
    provider: config.provider,
    region: config.region,
    pricePerGpuHour: config.pricePerGpuHour,
    shared: config.shared,
    simulated,
    maxJobs: config.maxJobs && config.maxJobs > 0 ? config.maxJobs : system.cpuCount,
  };
}

export { detectNvidiaGpus, parseNvidiaSmiCsv } from "./gpus.js";
export { parseSimulatedGpus } from "./simulated-gpus.js";
