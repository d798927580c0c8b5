/** Everything the agent tells the server about its machine. */
import type { DeviceFacts } from "@fedml/core/contract";
import type { AgentConfig } from "../config.js";
import { type ContainerRuntime, detectContainerRuntime } from "../runner/isolation/container.js";
import { AGENT_VERSION } from "../version.js";
import { detectNvidiaGpus, type GpuDetection } from "./gpus.js";
import { parseSimulatedGpus } from "./simulated-gpus.js";
import { advertisedAddress, systemFacts } from "./system.js";

export type FactsConfig = Pick<
  AgentConfig,
  "name" | "provider" | "region" | "pricePerGpuHour" | "shared" | "simulateGpus" | "maxJobs" | "address" | "containerRuntime"
>;

export interface DetectOptions {
  /** The nvidia-smi binary (tests point it at a fake). */
  nvidiaSmi?: string;
}

/** `runtime`: the agent's container runtime when already found (the daemon); else looked for here. */
export async function detectFacts(
  config: FactsConfig,
  options: DetectOptions = {},
  runtime: ContainerRuntime | null | undefined = undefined,
): Promise<DeviceFacts> {
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
    containerRuntime: (runtime === undefined ? detectContainerRuntime(config.containerRuntime ?? null) : runtime)?.kind ?? null,
  };
}

export { detectNvidiaGpus, parseNvidiaSmiCsv } from "./gpus.js";
export { parseSimulatedGpus } from "./simulated-gpus.js";
