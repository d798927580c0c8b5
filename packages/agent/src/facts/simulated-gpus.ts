/** `--simulate-gpus TYPE:COUNT[:MEM]`: GPUs an agent pretends to have (tests, demos, CPU boxes). */
import { FedmlError, type GpuInfo, ResultCode } from "@fedml/core/contract";

const MAX_SIMULATED_GPUS = 64;
/** Memory values up to this are GB as documented; larger ones can only have meant MiB. */
const LARGEST_GB_VALUE = 4096;
const DEFAULT_MEMORY_GB = 80;

function invalid(spec: string, why: string): FedmlError {
  return new FedmlError(
    ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
    `invalid simulated GPUs "${spec}": ${why} (expected TYPE:COUNT[:MEM_GB], e.g. A100-80GB:4:80)`,
  );
}

export function parseSimulatedGpus(spec: string): GpuInfo[] {
  const parts = spec.trim().split(":");
  if (parts.length < 2 || parts.length > 3) throw invalid(spec, "wrong number of ':'-separated parts");
  const [type, countText, memoryText] = parts.map((p) => p.trim());
  if (!type) throw invalid(spec, "the GPU type is empty");
  if (!/^\d+$/.test(countText)) throw invalid(spec, `count "${countText}" is not a whole number`);
  const count = Number(countText);
  if (count < 1 || count > MAX_SIMULATED_GPUS) throw invalid(spec, `count must be 1..${MAX_SIMULATED_GPUS}`);
  let memoryMiB = DEFAULT_MEMORY_GB * 1024;
  if (memoryText !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(memoryText) || Number(memoryText) <= 0) {
      throw invalid(spec, `memory "${memoryText}" is not a positive number`);
    }
    const memory = Number(memoryText);
    memoryMiB = memory > LARGEST_GB_VALUE ? Math.round(memory) : Math.round(memory * 1024);
  }
  return Array.from({ length: count }, (_, index) => ({
    index,
    name: type,
    memoryMiB,
    uuid: `GPU-simulated-${index}`,
    utilization: 0,
    memoryUsedMiB: 0,
  }));
}
