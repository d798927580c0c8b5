/**
 * The HTTP contract between the SDK/CLI, the control plane and the agents. One place for
 * every path and body so that the three parts cannot drift apart.
 *
 * Auth: `Authorization: Bearer <key>`. Client routes take a user's API key; agent routes
 * (under /agent/) take the device token handed out at registration, except `register`,
 * which takes the binding user's API key.
 *
 * Errors: any non-2xx answer has an `ErrorBody`.
 */
import type { CommandSpec } from "./jobspec.js";
import type { GpuInfo } from "./models.js";

export const API_PREFIX = "/api/v1";

export const Paths = {
  health: "/api/v1/health",
  openapi: "/api/v1/openapi.json",
  me: "/api/v1/me",
  users: "/api/v1/users",
  workspace: (sha256: string) => `/api/v1/workspaces/${sha256}`,
  runs: "/api/v1/runs",
  run: (runId: string) => `/api/v1/runs/${encodeURIComponent(runId)}`,
  runStop: (runId: string) => `/api/v1/runs/${encodeURIComponent(runId)}/stop`,
  runLogs: (runId: string) => `/api/v1/runs/${encodeURIComponent(runId)}/logs`,
  runLogLines: (runId: string) => `/api/v1/runs/${encodeURIComponent(runId)}/log-lines`,
  devices: "/api/v1/devices",
  clusters: "/api/v1/clusters",
  cluster: (name: string) => `/api/v1/clusters/${encodeURIComponent(name)}`,
  clusterAction: (action: ClusterAction) => `/api/v1/clusters/${action}`,
  clusterAutostop: (name: string) => `/api/v1/clusters/${encodeURIComponent(name)}/autostop`,
  device: (deviceId: string) => `/api/v1/devices/${encodeURIComponent(deviceId)}`,
  agentRegister: "/api/v1/agent/register",
  agentHello: "/api/v1/agent/hello",
  agentUnregister: "/api/v1/agent/unregister",
  agentAssignments: "/api/v1/agent/assignments",
  agentRunStatus: (runId: string) => `/api/v1/agent/runs/${encodeURIComponent(runId)}/status`,
  agentRunLogs: (runId: string) => `/api/v1/agent/runs/${encodeURIComponent(runId)}/logs`,
  agentWorkspace: (sha256: string) => `/api/v1/agent/workspaces/${sha256}`,
  agentRunServing: (runId: string) => `/api/v1/agent/runs/${encodeURIComponent(runId)}/serving`,
  /** The agent's inference tunnel (an HTTP upgrade, see tunnel.ts). */
  agentTunnel: "/api/v1/agent/tunnel",
  endpoints: "/api/v1/endpoints",
  endpoint: (endpointId: string) => `/api/v1/endpoints/${encodeURIComponent(endpointId)}`,
  /** The inference proxy (outside /api/v1): `/inference/<endpointId>/<path>` reaches the job's `/<path>`. */
  inference: (endpointId: string, path = "") => `/inference/${encodeURIComponent(endpointId)}/${path.replace(/^\/+/, "")}`,
} as const;

export interface ErrorBody {
  resultCode: number;
  resultMsg: string;
  /** One line that names what is wrong. */
  error: string;
}

export interface HealthBody {
  ok: true;
  version: string;
  /** Seconds since the server process started. */
  uptime: number;
}

// ---- client routes -------------------------------------------------------------------

/** POST /users (admin only). */
export interface CreateUserRequest {
  name: string;
  isAdmin?: boolean;
}
/** The key is shown here once and never again: only its hash is stored. */
export interface CreateUserResponse {
  user: import("./models.js").UserModel;
  apiKey: string;
}

/** PUT /workspaces/:sha256 takes the tar.gz bytes (content-type application/gzip). */
export interface PutWorkspaceResponse {
  sha256: string;
  size: number;
  /** False when the server already had it. */
  created: boolean;
}

/** POST /runs: launch. The server parses `yamlText` itself. */
export interface LaunchRequest {
  yamlText: string;
  /** For error messages and the default job name: the YAML file's path on the client. */
  yamlPath?: string;
  /** Folder name of the workspace (default job name `<folder>_FedMLLaunchApp`). */
  workspaceName?: string | null;
  /** sha256 of the uploaded workspace tar.gz; null when the YAML has no workspace. */
  workspaceSha256: string | null;
  resourceId?: string | null;
  deviceServer?: string | null;
  deviceEdges?: string[] | null;
  cluster?: string | null;
}
// answers LaunchResult (models.ts)

/** GET /runs?runName=&runId=&platform= answers FedMLRunModelList. */
export interface RunListQuery {
  runName?: string;
  runId?: string;
  platform?: string;
}

/** POST /runs/:id/stop */
export interface StopRunResponse {
  stopped: boolean;
  status: string;
}

/** GET /runs/:id/logs?pageNum=&pageSize=&needAllLogs= answers RunLogResult. */
export interface RunLogsQuery {
  pageNum?: number;
  pageSize?: number;
  needAllLogs?: boolean;
  platform?: string;
}

/**
 * GET /runs/:id/log-lines?deviceId=&afterSeq=&limit=&waitMs= : for following a run. Lines of
 * one device with seq > afterSeq; with waitMs the server holds the request until there is a
 * line or the run ends. Without deviceId: the run's first device (rank order).
 */
export interface LogLinesResponse {
  deviceId: string | null;
  lines: { seq: number; text: string }[];
  /** Pass as afterSeq next time. */
  lastSeq: number;
  runStatus: string;
  /** The run has ended and every line of this device has been returned. */
  done: boolean;
}

// ---- clusters ---------------------------------------------------------------------------

/** Cluster names: what a user may type on a command line without quoting. */
export const CLUSTER_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$";
/** An idle cluster stops by itself after this many minutes unless set otherwise. */
export const DEFAULT_CLUSTER_IDLE_MINUTES = 15;

export type ClusterAction = "start" | "stop" | "kill";

/** GET /clusters?names=a,b answers FedMLClusterModelList; GET /clusters/:name ClusterStatusResult. */
export interface ClusterListQuery {
  /** Comma-separated names; none lists every cluster not killed. */
  names?: string;
}

/** POST /clusters/start|stop|kill. Unknown names fail the whole request (404, code 15). */
export interface ClusterActionRequest {
  names?: string[];
  /** Every cluster of the caller (startall, stopall, killall). */
  all?: boolean;
}
export interface ClusterActionResponse {
  /** Every named cluster is now in the wanted state (the SDK's boolean). */
  done: boolean;
  clusterList: import("./models.js").FedMLClusterModel[];
  /** The clusters that could not be brought there, each with why (code 15 or 16). */
  failures: { clusterName: string; resultCode: number; reason: string }[];
}

/** PUT /clusters/:name/autostop answers the cluster's FedMLClusterModel. */
export interface ClusterAutostopRequest {
  /** Minutes without a live run before the cluster stops by itself; 0 = never. */
  idleMinutes: number;
}

// ---- agent routes --------------------------------------------------------------------

/** What an agent tells the server about its machine. */
export interface DeviceFacts {
  name: string;
  hostname: string;
  osType: string;
  osVersion: string;
  cpuCount: number;
  memoryBytes: number;
  gpus: GpuInfo[];
  agentVersion: string;
  /** Address other nodes of a run reach this one at (FEDML_NODE_0_ADDR). */
  address: string;
  provider: string;
  region: string;
  pricePerGpuHour: number;
  shared: boolean;
  simulated: boolean;
  /** How many runs may share the machine at once (GPU runs are also bounded by GPUs). */
  maxJobs: number;
  /** Why no GPU was found (nvidia-smi missing, failing or not understood); null when fine. */
  gpuError?: string | null;
}

export interface RegisterRequest {
  facts: DeviceFacts;
  /** Re-binding a machine that was bound before keeps its device id. */
  previousDeviceId?: string | null;
}
export interface RegisterResponse {
  deviceId: string;
  deviceToken: string;
}

/** POST /agent/hello: on every agent start, and after the server comes back. */
export interface HelloRequest {
  facts: DeviceFacts;
  /** Runs the agent has a live process for. Any other run the server thinks is live on
   *  this device has been lost (the agent restarted) and ends FAILED. */
  activeRunIds: string[];
}
export interface HelloResponse {
  deviceId: string;
  /** Milliseconds of silence after which the server marks the device OFFLINE. */
  offlineAfterMs: number;
  /**
   * The agent's hold on its run parts: each assignment poll renews it (counted from when the
   * poll was sent, on the agent's monotonic clock). An agent that could not renew for leaseMs
   * stops its jobs (SIGTERM, SIGKILL after leaseKillGraceMs): after that the server may
   * declare them lost and place them elsewhere. Absent from older servers: no lease.
   */
  leaseMs?: number;
  leaseKillGraceMs?: number;
}

/** The work the server wants on one device for one run. */
export interface Assignment {
  runId: string;
  /** FEDML_CLIENT_RANK. */
  rank: number;
  /** 0-based position among the run's devices (NODE_RANK). */
  nodeIndex: number;
  numNodes: number;
  gpuIndices: number[];
  workspaceSha256: string | null;
  bootstrap: CommandSpec | null;
  job: CommandSpec;
  /** Every variable the job gets from us, CUDA_VISIBLE_DEVICES included. */
  env: Record<string, string>;
  /** The user asked to stop: SIGTERM the process group, SIGKILL after stopGraceMs. */
  stopRequested: boolean;
  stopGraceMs: number;
  /**
   * Serve / deploy jobs: the agent picks a free port, gives it to the job as
   * FEDML_SERVING_PORT, probes `GET http://127.0.0.1:<port>/` and reports the port and
   * readiness on POST /agent/runs/:id/serving. Inference reaches the job through the agent's
   * tunnel (tunnel.ts), never by the server dialing the device. Absent for every other job.
   */
  serving?: ServingAssignment | null;
}

export interface ServingAssignment {
  endpointId: string;
  /** The readiness probe, as `serving_args` sets it; absent: `GET /` every second. */
  probePath?: string;
  probeIntervalMs?: number;
}

/**
 * POST /agent/runs/:id/serving: the job's serving port, and whether it answered the probe.
 * Sent when readiness changes: ready once the probe answers, not ready after it failed three
 * times in a row (the replica leaves the load balancer's rotation until it answers again).
 */
export interface ServingReport {
  port: number;
  ready: boolean;
}

/**
 * GET /agent/assignments?since=<version>&waitMs=<ms>: also the heartbeat. Answers at once
 * when the device's assignment version is above `since`, else holds up to waitMs. The list is
 * the whole desired state: every run not yet ended on this device. The agent starts the ones
 * it does not know, stops those with stopRequested, and ignores those it has finished (it
 * re-sends their final status).
 */
export interface AssignmentsResponse {
  version: number;
  assignments: Assignment[];
}

/** POST /agent/runs/:id/status. Idempotent: a repeated report changes nothing. */
export interface RunStatusReport {
  /** An EdgeStatus: INITIALIZING, RUNNING, FINISHED, FAILED, KILLED. */
  status: string;
  exitCode?: number | null;
  reason?: string | null;
  /** On a final report: how long the job ran since RUNNING, on the agent's monotonic clock. */
  runtimeMs?: number | null;
}

export interface LogLine {
  /** 1-based, contiguous per (run, device); the server stores each seq once. */
  seq: number;
  text: string;
  stream: "stdout" | "stderr";
  /** Epoch ms when the agent read the line. */
  time: number;
}

/** POST /agent/runs/:id/logs */
export interface LogBatchRequest {
  lines: LogLine[];
}
export interface LogBatchResponse {
  /** Highest seq stored for this (run, device); the agent drops what it holds up to it. */
  ackedSeq: number;
}
/** A 409 on POST /agent/runs/:id/logs (a batch that does not follow ackedSeq): resend from ackedSeq + 1. */
export interface LogBatchConflictBody extends ErrorBody {
  ackedSeq: number;
}

// ---- job environment -------------------------------------------------------------------

export const JobEnv = {
  RUN_ID: "FEDML_CURRENT_RUN_ID",
  EDGE_ID: "FEDML_CURRENT_EDGE_ID",
  CLIENT_RANK: "FEDML_CLIENT_RANK",
  NUM_NODES: "FEDML_NUM_NODES",
  NODE_0_ADDR: "FEDML_NODE_0_ADDR",
  NODE_0_PORT: "FEDML_NODE_0_PORT",
  CUDA_VISIBLE_DEVICES: "CUDA_VISIBLE_DEVICES",
  MASTER_ADDR: "MASTER_ADDR",
  MASTER_PORT: "MASTER_PORT",
  WORLD_SIZE: "WORLD_SIZE",
  NODE_RANK: "NODE_RANK",
  NNODES: "NNODES",
  NPROC_PER_NODE: "NPROC_PER_NODE",
  /** Federated jobs: `host:port` of the FL server node (rank 0), the address edges dial. */
  FL_SERVER_ADDR: "FEDML_FL_SERVER_ADDR",
  /** Federated jobs: how many edge nodes (ranks 1..N) the run has. */
  NUM_EDGES: "FEDML_NUM_EDGES",
  /** Federated jobs: "server" on rank 0, "edge" on the others. */
  ROLE: "FEDML_ROLE",
  /** Serve / deploy jobs: the port the job's HTTP server must listen on. */
  SERVING_PORT: "FEDML_SERVING_PORT",
  /** Serve / deploy jobs: the endpoint id (LaunchResult.innerId). */
  ENDPOINT_ID: "FEDML_ENDPOINT_ID",
} as const;

export const DEFAULT_NODE_0_PORT = 40000;

// ---- list answers (added by the SDK/CLI) ------------------------------------------------

/** GET /devices answers the devices the caller may see (`fedml device list`). */
export interface DeviceListResponse {
  deviceList: import("./models.js").DeviceModel[];
}

/** GET /users (admin only) answers every user (`fedml user list`). */
export interface UserListResponse {
  userList: import("./models.js").UserModel[];
}

/** GET /endpoints answers the caller's live endpoints (`fedml endpoint list`). */
export interface EndpointListResponse {
  endpointList: import("./models.js").EndpointModel[];
}

/** DELETE /endpoints/:id stops the endpoint's run and removes the endpoint. */
export interface DeleteEndpointResponse {
  deleted: boolean;
  endpointId: string;
  runId: string;
}
