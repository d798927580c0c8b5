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
/** `priority` and `retry` (queueing) and `num_edges` (federated jobs). */
const EXTRA_KEYS = ["priority", "retry", "num_edges"] as const;
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
    default:
      if (!COMPUTING_KEYS.includes(sub.key)) failAt(src, sub.keyNode, sub.path, unknownKeyMessage(sub.key, COMPUTING_KEYS));
      computing.extra[sub.key] = toPlain(src, sub.value);
  }
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
