/**
 * The objects the SDK returns (camelCase of the seed's Python attributes). The HTTP API
 * answers with these same shapes so that the SDK passes them through untouched and
 * `--json` on the CLI prints exactly what the SDK returns. Each is a TypeBox schema (the
 * server validates and documents with it) and the type derived from it: one definition.
 */
import { type Static, Type } from "@sinclair/typebox";
import { Amount, Count, Nullable } from "./schema/kit.js";

/** `fedml.api.launch_job()` / `launch_job_on_cluster()`. */
export const LaunchResultSchema = Type.Object({
  resultCode: Type.Integer(),
  resultMsg: Type.String(),
  runId: Nullable(Type.String()),
  projectId: Nullable(Type.String()),
  /** Serving endpoint id for deploy / serve jobs; null otherwise. */
  innerId: Nullable(Type.String()),
});
export type LaunchResult = Static<typeof LaunchResultSchema>;

export const DeviceInfoSchema = Type.Object({
  deviceId: Type.String(),
  gpuCount: Type.Integer(),
  osType: Type.String(),
  osVersion: Type.String(),
  /** Our additions: where the device sits and what it is doing in this run. */
  name: Type.Optional(Type.String()),
  rank: Type.Optional(Type.Integer()),
  status: Type.Optional(Type.String()),
  gpuIndices: Type.Optional(Type.Array(Type.Integer())),
  exitCode: Type.Optional(Nullable(Type.Integer())),
});
export type DeviceInfo = Static<typeof DeviceInfoSchema>;

/** `FedMLRunModel`. Times are epoch milliseconds; runningTime in ms; computeDuration in hours. */
export const FedMLRunModelSchema = Type.Object({
  runId: Type.String(),
  runName: Type.String(),
  status: Type.String(),
  startedTime: Nullable(Type.Number()),
  endedTime: Nullable(Type.Number()),
  runningTime: Type.Number(),
  computeDuration: Type.Number(),
  cost: Type.Number(),
  runUrl: Type.String(),
  deviceInfos: Type.Array(DeviceInfoSchema),
  /** Our additions. */
  projectId: Type.String(),
  projectName: Type.String(),
  jobType: Type.String(),
  platform: Type.String(),
  createdTime: Type.Number(),
  exitCode: Nullable(Type.Integer()),
  /** Why the run is where it is, in words (queued because..., failed because...). */
  reason: Nullable(Type.String()),
  /** Ours: the run's owner, given to an admin listing every user's runs. */
  ownerName: Type.Optional(Type.String()),
});
export type FedMLRunModel = Static<typeof FedMLRunModelSchema>;

export const FedMLRunModelListSchema = Type.Object({
  runList: Type.Array(FedMLRunModelSchema),
  /** Ours: when the list stopped at `limit`, pass as `before` for the next (older) runs. */
  nextCursor: Type.Optional(Type.String()),
});
export type FedMLRunModelList = Static<typeof FedMLRunModelListSchema>;

/** `run_status()` returns a tuple in Python; here an object with both parts (SDK only). */
export interface RunStatusResult {
  runList: FedMLRunModelList;
  status: string | null;
}

export const LogDeviceSchema = Type.Object({
  logUrl: Type.String(),
  name: Type.String(),
  id: Type.String(),
  /** Ours: the node's rank (0 = the first node, or a federated run's server). */
  rank: Type.Optional(Type.Integer()),
  /** Ours: how many lines the node has logged (numbered 1..lineCount). */
  lineCount: Type.Optional(Type.Integer()),
});
export type LogDevice = Static<typeof LogDeviceSchema>;

/** `FedMLRunLogModelList`. */
export const FedMLRunLogModelListSchema = Type.Object({
  logFullUrl: Type.String(),
  logDevices: Type.Array(LogDeviceSchema),
  totalNum: Type.Integer(),
  totalPages: Type.Integer(),
  currentPage: Type.Integer(),
  logLines: Type.Array(Type.String()),
});
export type FedMLRunLogModelList = Static<typeof FedMLRunLogModelListSchema>;

/** `RunLogResult`. */
export const RunLogResultSchema = Type.Object({
  runStatus: Nullable(Type.String()),
  totalLogLines: Type.Integer(),
  totalLogPages: Type.Integer(),
  logLineList: Type.Array(Type.String()),
  runLogs: Nullable(FedMLRunLogModelListSchema),
});
export type RunLogResult = Static<typeof RunLogResultSchema>;

export const FedMLClusterModelSchema = Type.Object({
  clusterName: Type.String(),
  clusterId: Type.String(),
  /** IDLE (reserved, nothing running), RUNNING, STOPPED (devices let go), TERMINATED (killed). */
  status: Type.String(),
  /** Our additions: the reserved devices, the idle minutes before auto-stop (0 = never),
   *  the runs not yet ended on it, and why it is where it is. */
  deviceIds: Type.Optional(Type.Array(Type.String())),
  idleMinutes: Type.Optional(Type.Number()),
  liveRunIds: Type.Optional(Type.Array(Type.String())),
  /** Those of liveRunIds still waiting for the cluster's devices. */
  queuedRunIds: Type.Optional(Type.Array(Type.String())),
  createdTime: Type.Optional(Type.Number()),
  reason: Type.Optional(Nullable(Type.String())),
});
export type FedMLClusterModel = Static<typeof FedMLClusterModelSchema>;

export const FedMLClusterModelListSchema = Type.Object({ clusterList: Type.Array(FedMLClusterModelSchema) });
export type FedMLClusterModelList = Static<typeof FedMLClusterModelListSchema>;

/** `cluster_status()` returns a tuple (status, FedMLClusterModelList) in Python; here an object. */
export const ClusterStatusResultSchema = Type.Object({
  status: Nullable(Type.String()),
  clusterList: FedMLClusterModelListSchema,
});
export type ClusterStatusResult = Static<typeof ClusterStatusResultSchema>;

/** Also what agents report in their facts, hence the bounds. */
export const GpuInfoSchema = Type.Object({
  index: Count(),
  name: Type.String(),
  memoryMiB: Amount(),
  uuid: Type.Optional(Type.String()),
  /** Utilisation in percent and memory used in MiB at the last report, where known. */
  utilization: Type.Optional(Amount()),
  memoryUsedMiB: Type.Optional(Amount()),
  /** Held by work the server did not place (a Slurm partition's other jobs): not free now. */
  busyElsewhere: Type.Optional(Type.Boolean()),
});
export type GpuInfo = Static<typeof GpuInfoSchema>;

/** One node of a batch cluster device (a Slurm partition), as its scheduler describes it. */
export const ClusterNodeSchema = Type.Object({
  name: Type.String({ maxLength: 200 }),
  /** The scheduler's own words: "idle", "mixed", "allocated", "down+drain", ... */
  state: Type.String({ maxLength: 200 }),
  gpus: Count(),
  gpuModel: Nullable(Type.String({ maxLength: 200 })),
  cpus: Count(),
  /** Why it is down or drained, as the cluster's admins wrote it. */
  reason: Nullable(Type.String({ maxLength: 1000 })),
});
export type ClusterNode = Static<typeof ClusterNodeSchema>;

/** A device as `fedml device list` shows it. */
export const DeviceModelSchema = Type.Object({
  deviceId: Type.String(),
  name: Type.String(),
  status: Type.String(),
  osType: Type.String(),
  osVersion: Type.String(),
  hostname: Type.String(),
  cpuCount: Type.Integer(),
  memoryBytes: Type.Number(),
  gpus: Type.Array(GpuInfoSchema),
  gpuCount: Type.Integer(),
  provider: Type.String(),
  region: Type.String(),
  pricePerGpuHour: Type.Number(),
  shared: Type.Boolean(),
  simulated: Type.Boolean(),
  ownerName: Type.String(),
  lastSeenTime: Nullable(Type.Number()),
  runningRunIds: Type.Array(Type.String()),
  /** Why the agent found no GPU (from its facts), so that `fedml device list` can say it. */
  gpuError: Type.Optional(Nullable(Type.String())),
  /** Runs the device has had a part in, ended ones included (the device list only). */
  runCount: Type.Optional(Type.Integer()),
  /** A Slurm device: the partition's nodes and what Slurm says of each. */
  clusterNodes: Type.Optional(Type.Array(ClusterNodeSchema)),
});
export type DeviceModel = Static<typeof DeviceModelSchema>;

export const UserModelSchema = Type.Object({
  userId: Type.String(),
  name: Type.String(),
  isAdmin: Type.Boolean(),
  createdTime: Type.Number(),
  /** Ours: a disabled user's keys are refused until an admin enables the user again. */
  disabled: Type.Optional(Type.Boolean()),
  /** Ours, in the admins' user list: credit balance (USD) and API keys not expired. */
  balance: Type.Optional(Type.Number()),
  activeKeys: Type.Optional(Type.Integer()),
});
export type UserModel = Static<typeof UserModelSchema>;

/** One replica of an endpoint: a run of the serve job on one device. */
export const EndpointReplicaModelSchema = Type.Object({
  runId: Type.String(),
  deviceId: Nullable(Type.String()),
  /** STARTING (not ready yet), READY, UNHEALTHY (failed its probe), DRAINING, ENDED. */
  status: Type.String(),
  generation: Type.Integer(),
  requestCount: Type.Integer(),
  errorCount: Type.Integer(),
  inflightRequests: Type.Integer(),
  readyTime: Nullable(Type.Number()),
  endedTime: Nullable(Type.Number()),
});
export type EndpointReplicaModel = Static<typeof EndpointReplicaModelSchema>;

/** A serving endpoint (serve / deploy jobs); `endpointId` is the launch's `innerId`. */
export const EndpointModelSchema = Type.Object({
  endpointId: Type.String(),
  endpointName: Type.String(),
  runId: Type.String(),
  /** An EndpointStatus: DEPLOYING, READY, FAILED, REMOVED. */
  status: Type.String(),
  /** Where to send requests: `<server>/inference/<endpointId>/`, with your API key. */
  inferenceUrl: Type.String(),
  modelName: Nullable(Type.String()),
  modelVersion: Nullable(Type.String()),
  deviceId: Nullable(Type.String()),
  createdTime: Type.Number(),
  readyTime: Nullable(Type.Number()),
  /** Replica bounds and the autoscaler's current target. */
  minReplicas: Type.Integer(),
  maxReplicas: Type.Integer(),
  desiredReplicas: Type.Integer(),
  /** Bumped by each launch that updates the endpoint in place (rolling update). */
  generation: Type.Integer(),
  /** Requests, failures and in flight, as counted by the server process that answered. */
  requestCount: Type.Integer(),
  errorCount: Type.Integer(),
  inflightRequests: Type.Integer(),
  replicas: Type.Array(EndpointReplicaModelSchema),
});
export type EndpointModel = Static<typeof EndpointModelSchema>;
