import { isScalar, isSeq } from "yaml";
import type { DockerSpec, ServingArgs } from "../jobspec.js";
import { readText, readWholeNumber } from "./scalars.js";
import { type Field, describeNode, failAt, fieldsOf, isAbsent, type YamlSource } from "./source.js";

/** `fedml_env.project_name`; other keys under fedml_env are the platform's and left alone. */
export function readProjectName(src: YamlSource, field: Field): string | null {
  if (isAbsent(src, field.value)) return null;
  const projectField = fieldsOf(src, field.value, field.path).find((f) => f.key === "project_name");
  const name = projectField ? readText(src, projectField) : null;
  return name !== null && name.trim() !== "" ? name.trim() : null;
}

const SERVING_KEYS = {
  model_name: "modelName",
  model_version: "modelVersion",
  model_storage_url: "modelStorageUrl",
  endpoint_name: "endpointName",
  endpoint_id: "endpointId",
  readiness_probe_path: "readinessProbePath",
} as const satisfies Record<string, keyof ServingArgs>;

const SERVING_NUMBERS = {
  min_replicas: "minReplicas",
  max_replicas: "maxReplicas",
  target_inflight_requests: "targetInflightRequests",
  scale_down_delay_seconds: "scaleDownDelaySeconds",
  readiness_probe_interval_seconds: "readinessProbeIntervalSeconds",
} as const satisfies Record<string, keyof ServingArgs>;

/** Bounds of the numeric serving keys: enough for any real service, small enough to be safe. */
const MAX_REPLICAS = 64;

/** `serving_args`; keys beyond the known ones are tolerated (the original passes them on). */
export function readServingArgs(src: YamlSource, field: Field): ServingArgs | null {
  if (isAbsent(src, field.value)) return null;
  const args: ServingArgs = {
    modelName: null,
    modelVersion: null,
    modelStorageUrl: null,
    endpointName: null,
    endpointId: null,
    minReplicas: null,
    maxReplicas: null,
    targetInflightRequests: null,
    scaleDownDelaySeconds: null,
    readinessProbePath: null,
    readinessProbeIntervalSeconds: null,
  };
  for (const sub of fieldsOf(src, field.value, field.path)) {
    const text = SERVING_KEYS[sub.key as keyof typeof SERVING_KEYS];
    if (text !== undefined) args[text] = readText(src, sub);
    const number = SERVING_NUMBERS[sub.key as keyof typeof SERVING_NUMBERS];
    if (number !== undefined) args[number] = isAbsent(src, sub.value) ? null : readWholeNumber(src, sub, 0);
    if (sub.key === "replicas" && !isAbsent(src, sub.value)) {
      const replicas = readWholeNumber(src, sub, 1);
      args.minReplicas = replicas;
      args.maxReplicas = replicas;
    }
    if ((sub.key === "replicas" || sub.key === "min_replicas" || sub.key === "max_replicas") && !isAbsent(src, sub.value)) {
      if (readWholeNumber(src, sub, 0) > MAX_REPLICAS) failAt(src, sub.keyNode, sub.path, `at most ${MAX_REPLICAS} replicas`);
    }
    if (sub.key === "readiness_probe_path" && args.readinessProbePath !== null && !args.readinessProbePath.startsWith("/")) {
      failAt(src, sub.keyNode, sub.path, "must start with /");
    }
  }
  if (args.minReplicas !== null && args.maxReplicas !== null && args.minReplicas > args.maxReplicas) {
    failAt(src, field.keyNode, field.path, `min_replicas ${args.minReplicas} is above max_replicas ${args.maxReplicas}`);
  }
  if (args.maxReplicas === 0) failAt(src, field.keyNode, field.path, "max_replicas must be at least 1");
  if (args.targetInflightRequests === 0) failAt(src, field.keyNode, field.path, "target_inflight_requests must be at least 1");
  if (args.readinessProbeIntervalSeconds === 0) {
    failAt(src, field.keyNode, field.path, "readiness_probe_interval_seconds must be at least 1");
  }
  return args;
}

export function readDocker(src: YamlSource, field: Field): DockerSpec | null {
  if (isAbsent(src, field.value)) return null;
  const docker: DockerSpec = { image: null, registry: null, username: null, password: null, ports: [] };
  for (const sub of fieldsOf(src, field.value, field.path)) {
    switch (sub.key) {
      case "image":
      case "registry":
      case "username":
      case "password":
        docker[sub.key] = readText(src, sub);
        break;
      case "ports":
        docker.ports = readPorts(src, sub);
        break;
      default:
        failAt(src, sub.keyNode, sub.path, "unknown key (expected image, registry, username, password or ports)");
    }
  }
  return docker;
}

/** A port or a list of ports, each a whole number 1..65535 (digits in quotes accepted). */
function readPorts(src: YamlSource, field: Field): number[] {
  if (isAbsent(src, field.value)) return [];
  if (!isSeq(field.value)) return [readPort(src, field.value, field.path)];
  return field.value.items.map((item, i) => readPort(src, item, `${field.path}[${i}]`));
}

function readPort(src: YamlSource, node: unknown, path: string): number {
  if (isScalar(node)) {
    const v = typeof node.value === "string" && /^\s*\d+\s*$/.test(node.value) ? Number(node.value) : node.value;
    if (typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535) return v;
  }
  return failAt(src, node, path, `expected a port 1..65535, got ${describeNode(src, node)}`);
}
