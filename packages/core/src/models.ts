/**
 * The objects the SDK returns (camelCase of the seed's Python attributes). The HTTP API
 * answers with these same shapes so that the SDK passes them through untouched and
 * `--json` on the CLI prints exactly what the SDK returns.
 */

/** `fedml.api.launch_job()` / `launch_job_on_cluster()`. */
export interface LaunchResult {
  resultCode: number;
  resultMsg: string;
  runId: string | null;
  projectId: string | null;
  /** Serving endpoint id for deploy / serve jobs; null otherwise. */
  innerId: string | null;
}

export interface DeviceInfo {
  deviceId: string;
  gpuCount: number;
  osType: string;
  osVersion: string;
  /** Our additions: where the device sits and what it is doing in this run. */
  name?: string;
  rank?: number;
  status?: string;
  gpuIndices?: number[];
  exitCode?: number | null;
}

/** `FedMLRunModel`. Times are epoch milliseconds; runningTime in ms; computeDuration in hours. */
export interface FedMLRunModel {
  runId: string;
  runName: string;
  status: string;
  startedTime: number | null;
  endedTime: number | null;
  runningTime: number;
  computeDuration: number;
  cost: number;
  runUrl: string;
  deviceInfos: DeviceInfo[];
  /** Our additions. */
  projectId: string;
  projectName: string;
  jobType: string;
  platform: string;
  createdTime: number;
  exitCode: number | null;
  /** Why the run is where it is, in words (queued because..., failed because...). */
  reason: string | null;
}

export interface FedMLRunModelList {
  runList: FedMLRunModel[];
}

/** `run_status()` returns a tuple in Python; here an object with both parts. */
export interface RunStatusResult {
  runList: FedMLRunModelList;
  status: string | null;
}

export interface LogDevice {
  logUrl: string;
  name: string;
  id: string;
}

/** `FedMLRunLogModelList`. */
export interface FedMLRunLogModelList {
  logFullUrl: string;
  logDevices: LogDevice[];
  totalNum: number;
  totalPages: number;
  currentPage: number;
  logLines: string[];
}

/** `RunLogResult`. */
export interface RunLogResult {
  runStatus: string | null;
  totalLogLines: number;
  totalLogPages: number;
  logLineList: string[];
  runLogs: FedMLRunLogModelList | null;
}

export interface FedMLClusterModel {
  clusterName: string;
  clusterId: string;
  /** IDLE (reserved, nothing running), RUNNING, STOPPED (devices let go), TERMINATED (killed). */
  status: string;
  /** Our additions: the reserved devices, the idle minutes before auto-stop (0 = never),
   *  the runs not yet ended on it, and why it is where it is. */
  deviceIds?: string[];
  idleMinutes?: number;
  liveRunIds?: string[];
  createdTime?: number;
  reason?: string | null;
}

export interface FedMLClusterModelList {
  clusterList: FedMLClusterModel[];
}

/** `cluster_status()` returns a tuple (status, FedMLClusterModelList) in Python; here an object. */
export interface ClusterStatusResult {
  status: string | null;
  clusterList: FedMLClusterModelList;
}

export interface GpuInfo {
  index: number;
  name: string;
  memoryMiB: number;
  uuid?: string;
  /** Utilisation in percent and memory used in MiB at the last report, where known. */
  utilization?: number;
  memoryUsedMiB?: number;
}

/** A device as `fedml device list` shows it. */
export interface DeviceModel {
  deviceId: string;
  name: string;
  status: string;
  osType: string;
  osVersion: string;
  hostname: string;
  cpuCount: number;
  memoryBytes: number;
  gpus: GpuInfo[];
  gpuCount: number;
  provider: string;
  region: string;
  pricePerGpuHour: number;
  shared: boolean;
  simulated: boolean;
  ownerName: string;
  lastSeenTime: number | null;
  runningRunIds: string[];
  /** Why the agent found no GPU (from its facts), so that `fedml device list` can say it. */
  gpuError?: string | null;
}

export interface UserModel {
  userId: string;
  name: string;
  isAdmin: boolean;
  createdTime: number;
}

/** A serving endpoint (serve / deploy jobs); `endpointId` is the launch's `innerId`. */
export interface EndpointModel {
  endpointId: string;
  endpointName: string;
  runId: string;
  /** An EndpointStatus: DEPLOYING, READY, FAILED, REMOVED. */
  status: string;
  /** Where to send requests: `<server>/inference/<endpointId>/`, with your API key. */
  inferenceUrl: string;
  modelName: string | null;
  modelVersion: string | null;
  deviceId: string | null;
  createdTime: number;
  readyTime: number | null;
  /** Replica bounds and the autoscaler's current target. */
  minReplicas: number;
  maxReplicas: number;
  desiredReplicas: number;
  /** Bumped by each launch that updates the endpoint in place (rolling update). */
  generation: number;
  /** Requests, failures and in flight, as counted by the server process that answered. */
  requestCount: number;
  errorCount: number;
  inflightRequests: number;
  replicas: EndpointReplicaModel[];
}

/** One replica of an endpoint: a run of the serve job on one device. */
export interface EndpointReplicaModel {
  runId: string;
  deviceId: string | null;
  /** STARTING (not ready yet), READY, UNHEALTHY (failed its probe), DRAINING, ENDED. */
  status: string;
  generation: number;
  requestCount: number;
  errorCount: number;
  inflightRequests: number;
  readyTime: number | null;
  endedTime: number | null;
}
