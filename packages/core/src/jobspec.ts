/**
 * The parsed, validated form of a job YAML. `parseJobYaml` (job-yaml.ts) produces it; the
 * client uses it to find the workspace, the server re-parses the YAML text itself (it never
 * trusts a parsed copy from a client) and stores it with the run, reading it back through
 * `JobSpecSchema` (a checked decode, not a cast).
 */
import { type Static, Type } from "@sinclair/typebox";
import { Nullable } from "./schema/kit.js";

/** `job`, `bootstrap` and `server_job` may be a string or `{run_on_posix, run_on_windows}`. */
export const CommandSpecSchema = Type.Object({ posix: Nullable(Type.String()), windows: Nullable(Type.String()) });
export type CommandSpec = Static<typeof CommandSpecSchema>;

export const JOB_TYPES = ["train", "deploy", "serve", "federate", "dev-environment"] as const;
export type JobType = (typeof JOB_TYPES)[number];

export const FRAMEWORK_TYPES = ["general", "fedml", "deepspeed", "pytorch", "tensorflow", "mxnet"] as const;
export type FrameworkType = (typeof FRAMEWORK_TYPES)[number];

export const DEVICE_TYPES = ["GPU", "CPU", "hybrid"] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

/** One of a list of words: the list stays the one definition, the schema and type follow it. */
const oneOf = <T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>(Type.Union(values.map((v) => Type.Literal(v))));

export const ComputingSpecSchema = Type.Object({
  minimumNumGpus: Type.Integer({ minimum: 0 }),
  /** USD per hour for the whole job; 0 (the default "$0") means no paid resources. */
  maximumCostPerHour: Type.Number({ minimum: 0 }),
  resourceType: Nullable(Type.String()),
  deviceType: oneOf(DEVICE_TYPES),
  allowCrossCloudResources: Type.Boolean(),
  /** `computing.memory`: the run's memory limit on each device (absent: none of ours). */
  memoryBytes: Type.Optional(Type.Number()),
  /** `computing.cpus`: the run's CPU limit on each device (absent: none). */
  cpus: Type.Optional(Type.Number()),
  /** `computing.time_limit`: how long the job may run, in seconds (Slurm devices pass it as --time). */
  timeLimitSeconds: Type.Optional(Type.Number()),
  /** Our keys under `computing` (priority, retry, num_edges), kept as written. */
  extra: Type.Record(Type.String(), Type.Unknown()),
});
export type ComputingSpec = Static<typeof ComputingSpecSchema>;

export const ServingArgsSchema = Type.Object({
  modelName: Nullable(Type.String()),
  modelVersion: Nullable(Type.String()),
  modelStorageUrl: Nullable(Type.String()),
  endpointName: Nullable(Type.String()),
  endpointId: Nullable(Type.String()),
  /** `replicas: N` sets both bounds; null: absent (one replica). */
  minReplicas: Nullable(Type.Integer({ minimum: 0, maximum: 64 })),
  maxReplicas: Nullable(Type.Integer({ minimum: 0, maximum: 64 })),
  /** Autoscaling target: in-flight requests per ready replica; null: no autoscaling. */
  targetInflightRequests: Nullable(Type.Integer({ minimum: 0 })),
  /** Autoscaling target: requests per second per ready replica; absent or null: not on rate. */
  targetRequestsPerSecond: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
  scaleDownDelaySeconds: Nullable(Type.Integer({ minimum: 0 })),
  /** The readiness probe: `GET <path>` on the job's port every interval (defaults `/`, 1 s). */
  readinessProbePath: Nullable(Type.String()),
  readinessProbeIntervalSeconds: Nullable(Type.Integer({ minimum: 0 })),
});
export type ServingArgs = Static<typeof ServingArgsSchema>;

export const DockerSpecSchema = Type.Object({
  image: Nullable(Type.String()),
  registry: Nullable(Type.String()),
  username: Nullable(Type.String()),
  password: Nullable(Type.String()),
  ports: Type.Array(Type.Integer()),
});
export type DockerSpec = Static<typeof DockerSpecSchema>;

export const JobSpecSchema = Type.Object({
  /** As written in the YAML (relative to the YAML's folder); null when absent. */
  workspace: Nullable(Type.String()),
  job: Nullable(CommandSpecSchema),
  bootstrap: Nullable(CommandSpecSchema),
  serverJob: Nullable(CommandSpecSchema),
  /** `task_type` wins over `job_type`; default "train". */
  jobType: oneOf(JOB_TYPES),
  /** `generate_training` (the original examples' misspelling) is read as general_training. */
  jobSubtype: Nullable(Type.String()),
  frameworkType: oneOf(FRAMEWORK_TYPES),
  computing: ComputingSpecSchema,
  projectName: Nullable(Type.String()),
  /** `job_name`; null when absent (the default name needs the workspace folder name). */
  jobName: Nullable(Type.String()),
  jobArgs: Type.Unknown(),
  servingArgs: Nullable(ServingArgsSchema),
  docker: Nullable(DockerSpecSchema),
  containerize: Type.Boolean(),
  /**
   * Every leaf of every non-reserved top-level key, flattened to
   * `FEDML_ENV_<PATH_IN_UPPER_SNAKE>` -> string value.
   */
  extraEnv: Type.Record(Type.String(), Type.String()),
});
export type JobSpec = Static<typeof JobSpecSchema>;
