/**
 * Pure parser for
 * `nvidia-smi --query-gpu=index,name,memory.total,uuid,utilization.gpu,memory.used --format=csv,noheader,nounits`.
 */
import type { GpuInfo } from "@fedml/core/contract";

export const NVIDIA_SMI_QUERY_ARGS = [
  "--query-gpu=index,name,memory.total,uuid,utilization.gpu,memory.used",
  "--format=csv,noheader,nounits",
];

const FIELD_COUNT = 6;

/** nvidia-smi writes these (bracketed) where a value is unknown or unsupported on the card. */
function isUnavailable(field: string): boolean {
  return field === "" || /^\[.*\]$/.test(field) || field === "N/A";
}

function optionalNumber(field: string): number | undefined {
  if (isUnavailable(field)) return undefined;
  const value = Number(field);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * One GpuInfo per non-blank line. Throws an Error naming the line when a line does not have
 * the queried shape, so that "nvidia-smi works but no GPU detected" comes with the reason.
 */
export function parseNvidiaSmiCsv(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (line === "") return;
    const fields = line.split(",").map((f) => f.trim());
    if (fields.length < FIELD_COUNT) {
      throw new Error(`nvidia-smi output line ${i + 1} has ${fields.length} fields, expected ${FIELD_COUNT}: "${line}"`);
    }
    // A name with a comma in it would split in two: the fixed fields are first and last.
    const [indexField] = fields;
    const tail = fields.slice(-4);
    const name = fields.slice(1, fields.length - 4).join(", ");
    const index = Number(indexField);
    if (!/^\d+$/.test(indexField) || !Number.isSafeInteger(index)) {
      throw new Error(`nvidia-smi output line ${i + 1} does not start with a GPU index: "${line}"`);
    }
    const [memoryTotal, uuid, utilization, memoryUsed] = tail;
    const gpu: GpuInfo = { index, name, memoryMiB: optionalNumber(memoryTotal) ?? 0 };
    if (!isUnavailable(uuid)) gpu.uuid = uuid;
    const util = optionalNumber(utilization);
    if (util !== undefined) gpu.utilization = util;
    const used = optionalNumber(memoryUsed);
    if (used !== undefined) gpu.memoryUsedMiB = used;
    gpus.push(gpu);
  });
  return gpus;
}
