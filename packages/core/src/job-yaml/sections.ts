import { isScalar, isSeq } from "yaml";
import type { DockerSpec, ServingArgs } from "../jobspec.js";
import { readText, readWholeNumber } from "./scalars.js";
import { nearMiss, unknownKeyMessage } from "./did-you-mean.js";
import { attempt, type Field, describeNode, failAt, fieldsOf, isAbsent, report, type YamlSource } from "./source.js";

/** Reports a key that is one or two edits from a known one (free-form sections keep the rest). */
export function reportNearMiss(src: YamlSource, field: Field, known: readonly string[]): void {
  const guess = nearMiss(field.key, known);
  if (guess !== undefined) report(src, field.keyNode, field.path, `unknown key, did you mean ${guess}?`);
}

/** `fedml_env.project_name`; other keys under fedml_env are the platform's and left alone. */
export function readProjectName(src: YamlSource, field: Field): string | null {
  if (isAbsent(src, field.value)) return null;
  const fields = fieldsOf(src, field.value, field.path);
  for (const f of fields) reportNearMiss(src, f, ["project_name"]);
  const projectField = fields.find((f) => f.key === "project_name");
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
  target_requests_per_second: "targetRequestsPerSecond",
  scale_down_delay_seconds: "scaleDownDelaySeconds",
  readiness_probe_interval_seconds: "readinessProbeIntervalSeconds",
} as const satisfies Record<string, keyof ServingArgs>;

/** Bounds of the numeric serving keys: enough for any real service, small enough to be safe. */
const MAX_REPLICAS = 64;
const SERVING_ARG_KEYS = [...Object.keys(SERVING_KEYS), ...Object.keys(SERVING_NUMBERS), "replicas"];

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
    targetRequestsPerSecond: null,
    scaleDownDelaySeconds: null,
    readinessProbePath: null,
    readinessProbeIntervalSeconds: null,
  };
  for (const sub of fieldsOf(src, field.value, field.path)) {
    const text = SERVING_KEYS[sub.key as keyof typeof SERVING_KEYS];
    const number = SERVING_NUMBERS[sub.key as keyof typeof SERVING_NUMBERS];
    if (text !== undefined) args[text] = attempt(() => readText(src, sub), null);
    else if (number !== undefined) args[number] = attempt(() => readWholeNumber(src, sub, 0), null);
    else if (sub.key === "replicas") {
      const replicas = attempt(() => readWholeNumber(src, sub, 1), null);
      args.minReplicas = replicas;
      args.maxReplicas = replicas;
    } else reportNearMiss(src, sub, SERVING_ARG_KEYS);
    if (sub.key === "readiness_probe_path" && args.readinessProbePath !== null && !args.readinessProbePath.startsWith("/")) {
      report(src, sub.keyNode, sub.path, "must start with /");
    }
  }
  const bad = (what: string) => report(src, field.keyNode, field.path, what);
  if (args.minReplicas !== null && args.maxReplicas !== null && args.minReplicas > args.maxReplicas) {
    bad(`min_replicas ${args.minReplicas} is above max_replicas ${args.maxReplicas}`);
  }
  if (args.maxReplicas === 0) bad("max_replicas must be at least 1");
  if (args.targetInflightRequests === 0) bad("target_inflight_requests must be at least 1");
  if (args.targetRequestsPerSecond === 0) bad("target_requests_per_second must be at least 1");
  if (args.readinessProbeIntervalSeconds === 0) bad("readiness_probe_interval_seconds must be at least 1");
  if (Math.max(args.minReplicas ?? 0, args.maxReplicas ?? 0) > MAX_REPLICAS) bad(`at most ${MAX_REPLICAS} replicas`);
  return args;
}

const DOCKER_KEYS = ["image", "registry", "username", "password", "ports"] as const;

export function readDocker(src: YamlSource, field: Field): DockerSpec | null {
  if (isAbsent(src, field.value)) return null;
  const docker: DockerSpec = { image: null, registry: null, username: null, password: null, ports: [] };
  for (const sub of fieldsOf(src, field.value, field.path)) {
    attempt(() => {
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
          failAt(src, sub.keyNode, sub.path, unknownKeyMessage(sub.key, DOCKER_KEYS));
      }
    }, undefined);
  }
  return docker;
}

/** A port or a list of ports, each a whole number 1..65535 (digits in quotes accepted). */
function readPorts(src: YamlSource, field: Field): number[] {
  if (isAbsent(src, field.value)) return [];
  if (!isSeq(field.value)) return [readPort(src, field.value, field.path)];
  const ports = field.value.items.map((item, i) => attempt(() => readPort(src, item, `${field.path}[${i}]`), 0));
  return ports.filter((port) => port > 0);
}

function readPort(src: YamlSource, node: unknown, path: string): number {
  if (isScalar(node)) {
    const v = typeof node.value === "string" && /^\s*\d+\s*$/.test(node.value) ? Number(node.value) : node.value;
    if (typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535) return v;
  }
  return failAt(src, node, path, `expected a port 1..65535, got ${describeNode(src, node)}`);
}
