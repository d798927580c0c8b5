import { isScalar } from "yaml";
import { FedmlError } from "../codes.js";
import { type ComputingSpec, DEVICE_TYPES } from "../jobspec.js";
import { parseMoney } from "../money.js";
import { readBool, readChoice, readNonBlankText, readWholeNumber } from "./scalars.js";
import { unknownKeyMessage } from "./did-you-mean.js";
import { attempt, type Field, describeNode, failAt, fieldNode, fieldsOf, isAbsent, toPlain, type YamlSource } from "./source.js";

/** The original's documented keys, then ours (kept in `extra`, read by the server). */
const DOCUMENTED_KEYS = [
  "minimum_num_gpus",
  "maximum_cost_per_hour",
  "resource_type",
  "device_type",
  "allow_cross_cloud_resources",
] as const;
/** `priority` and `retry` (queueing), `num_edges` (federated jobs), `memory` and `cpus` (limits on each device). */
const EXTRA_KEYS = ["priority", "retry", "num_edges", "memory", "cpus", "time_limit"] as const;
export const COMPUTING_KEYS: readonly string[] = [...DOCUMENTED_KEYS, ...EXTRA_KEYS];

export function defaultComputing(): ComputingSpec {
  return {
    minimumNumGpus: 0,
    maximumCostPerHour: 0,
    resourceType: null,
    deviceType: "GPU",
    allowCrossCloudResources: false,
    extra: {},
  };
}

export function readComputing(src: YamlSource, field: Field): ComputingSpec {
  const computing = defaultComputing();
  if (isAbsent(src, field.value)) return computing;
  for (const sub of fieldsOf(src, field.value, field.path)) {
    attempt(() => readComputingKey(src, sub, computing), undefined);
  }
  return computing;
}

function readComputingKey(src: YamlSource, sub: Field, computing: ComputingSpec): void {
  switch (sub.key) {
    case "minimum_num_gpus":
      computing.minimumNumGpus = readWholeNumber(src, sub, 0);
      break;
    case "maximum_cost_per_hour":
      computing.maximumCostPerHour = readPrice(src, sub);
      break;
    case "resource_type":
      computing.resourceType = readNonBlankText(src, sub)?.trim() ?? null;
      break;
    case "device_type":
      computing.deviceType = readChoice(src, sub, DEVICE_TYPES, "GPU");
      break;
    case "allow_cross_cloud_resources":
      computing.allowCrossCloudResources = readBool(src, sub, false);
      break;
    case "memory":
      computing.memoryBytes = readAmount(src, sub, parseMemoryBytes, 'a memory size like "8GB" or "512MiB"');
      break;
    case "cpus":
      computing.cpus = readAmount(src, sub, parseCpus, "a number of CPUs > 0 like 2 or 0.5");
      break;
    case "time_limit":
      computing.timeLimitSeconds = readAmount(src, sub, parseTimeLimitSeconds, 'a duration like "90m", "2h", "1d" or "01:30:00"');
      break;
    default:
      if (!COMPUTING_KEYS.includes(sub.key)) failAt(src, sub.keyNode, sub.path, unknownKeyMessage(sub.key, COMPUTING_KEYS));
      computing.extra[sub.key] = toPlain(src, sub.value);
  }
}

/** `computing.memory`: "8GB", "512MiB", "2g"; a bare number is GB. Null when not a size. Pure. */
export function parseMemoryBytes(value: unknown): number | null {
  const text = String(value).trim();
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?$/i.exec(text);
  if (!match) return null;
  const unit = match[2].toLowerCase() || "g";
  const base = match[3] ? 1024 : 1000;
  const bytes = Math.floor(Number(match[1]) * base ** ("kmgt".indexOf(unit) + 1));
  return bytes >= 1024 * 1024 && Number.isSafeInteger(bytes) ? bytes : null;
}

/** `computing.time_limit`: "90m", "2h", "1d", "45s", "HH:MM:SS", or a bare number of minutes. Null when not one. Pure. */
export function parseTimeLimitSeconds(value: unknown): number | null {
  const text = String(value).trim().toLowerCase();
  const clock = /^(?:(\d+):)?(\d+):(\d{2})$/.exec(text);
  const seconds = clock
    ? Number(clock[1] ?? 0) * 3600 + Number(clock[2]) * 60 + Number(clock[3])
    : (() => {
        const m = /^(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?$/.exec(text);
        if (!m) return Number.NaN;
        const unit = { s: 1, m: 60, min: 60, h: 3600, d: 86400 }[m[2] ?? "m"] ?? 60;
        return Math.round(Number(m[1]) * unit);
      })();
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : null;
}

/** `computing.cpus`: a positive number of CPUs. Null when not one. Pure. */
export function parseCpus(value: unknown): number | null {
  const n = typeof value === "number" ? value : Number(String(value).trim());
  return Number.isFinite(n) && n > 0 && n <= 4096 ? n : null;
}

function readAmount(src: YamlSource, field: Field, parse: (value: unknown) => number | null, what: string): number | undefined {
  if (isAbsent(src, field.value)) return undefined;
  const node = field.value;
  const parsed = isScalar(node) ? parse(node.value) : null;
  if (parsed !== null) return parsed;
  return failAt(src, fieldNode(field), field.path, `expected ${what}, got ${describeNode(src, node)}`);
}

function readPrice(src: YamlSource, field: Field): number {
  if (isAbsent(src, field.value)) return 0;
  const node = field.value;
  if (isScalar(node)) {
    try {
      return parseMoney(node.value);
    } catch (err) {
      if (!(err instanceof FedmlError)) throw err;
    }
  }
  return failAt(src, fieldNode(field), field.path, `not a price: ${describeNode(src, node)} (write it like "$1.75")`);
}
