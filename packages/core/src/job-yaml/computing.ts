import { isScalar } from "yaml";
import { FedmlError } from "../codes.js";
import { type ComputingSpec, DEVICE_TYPES } from "../jobspec.js";
import { parseMoney } from "../money.js";
import { readBool, readChoice, readNonBlankText, readWholeNumber } from "./scalars.js";
import { type Field, describeNode, failAt, fieldNode, fieldsOf, isAbsent, toPlain, type YamlSource } from "./source.js";

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
        computing.extra[sub.key] = toPlain(src, sub.value);
    }
  }
  return computing;
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
