/**
 * The parsed, validated form of a job YAML. `parseJobYaml` (job-yaml.ts) produces it; the
 * client uses it to find the workspace, the server re-parses the YAML text itself (it never
 * trusts a parsed copy from a client) and stores it with the run.
 */

/** `job`, `bootstrap` and `server_job` may be a string or `{run_on_posix, run_on_windows}`. */
export interface CommandSpec {
  posix: string | null;
  windows: string | null;
}

export const JOB_TYPES = ["train", "deploy", "serve", "federate", "dev-environment"] as const;
export type JobType = (typeof JOB_TYPES)[number];

export const FRAMEWORK_TYPES = ["general", "fedml", "deepspeed", "pytorch", "tensorflow", "mxnet"] as const;
export type FrameworkType = (typeof FRAMEWORK_TYPES)[number];

export const DEVICE_TYPES = ["GPU", "CPU", "hybrid"] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

export interface ComputingSpec {
  minimumNumGpus: number;
  /** USD per hour for the whole job; 0 (the default "$0") means no paid resources. */
  maximumCostPerHour: number;
  resourceType: string | null;
  deviceType: DeviceType;
  allowCrossCloudResources: boolean;
  /** Keys under `computing` that the schema does not reserve, kept as written. */
  extra: Record<string, unknown>;
}

export interface ServingArgs {
  modelName: string | null;
  modelVersion: string | null;
  modelStorageUrl: string | null;
  endpointName: string | null;
  endpointId: string | null;
  /** `replicas: N` sets both bounds; null: absent (one replica). */
  minReplicas: number | null;
  maxReplicas: number | null;
  /** Autoscaling target: in-flight requests per ready replica; null: no autoscaling. */
  targetInflightRequests: number | null;
  scaleDownDelaySeconds: number | null;
  /** The readiness probe: `GET <path>` on the job's port every interval (defaults `/`, 1 s). */
  readinessProbePath: string | null;
  readinessProbeIntervalSeconds: number | null;
}

export interface DockerSpec {
  image: string | null;
  registry: string | null;
  username: string | null;
  password: string | null;
  ports: number[];
}

export interface JobSpec {
  /** As written in the YAML (relative to the YAML's folder); null when absent. */
  workspace: string | null;
  job: CommandSpec | null;
  bootstrap: CommandSpec | null;
  serverJob: CommandSpec | null;
  /** `task_type` wins over `job_type`; default "train". */
  jobType: JobType;
  /** `generate_training` (the original examples' misspelling) is read as general_training. */
  jobSubtype: string | null;
  frameworkType: FrameworkType;
  computing: ComputingSpec;
  projectName: string | null;
  /** `job_name`; null when absent (the default name needs the workspace folder name). */
  jobName: string | null;
  jobArgs: unknown;
  servingArgs: ServingArgs | null;
  docker: DockerSpec | null;
  containerize: boolean;
  /**
   * Every leaf of every non-reserved top-level key, flattened to
   * `FEDML_ENV_<PATH_IN_UPPER_SNAKE>` -> string value.
   */
  extraEnv: Record<string, string>;
}
