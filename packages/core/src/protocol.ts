/**
 * The HTTP contract between the SDK/CLI, the control plane and the agents. One place for
 * every body (the paths are in paths.ts) so that the three parts cannot drift apart.
 *
 * Auth: `Authorization: Bearer <key>`. Client routes take a user's API key; agent routes
 * (under /agent/) take the device token handed out at registration, except `register`,
 * which takes the binding user's API key.
 *
 * Errors: any non-2xx answer has an `ErrorBody`.
 *
 * Every body is a TypeBox schema with its type derived from it (`Static`): the server
 * validates requests and writes its OpenAPI document with the schemas, the SDK and the agent
 * use the types, so the three cannot drift apart. Request bounds follow the store's columns
 * (schema/kit.ts).
 */
import { type Static, Type } from "@sinclair/typebox";
import {
  ClusterNodeSchema,
  DeviceModelSchema,
  EndpointModelSchema,
  FedMLClusterModelSchema,
  GpuInfoSchema,
  UserModelSchema,
} from "./models.js";
import { CommandSpecSchema } from "./jobspec.js";
import { Amount, Big, Count, Int32, Nullable } from "./schema/kit.js";

export * from "./paths.js";
export * from "./job-env.js";

export const ErrorBodySchema = Type.Object({
  resultCode: Type.Integer(),
  resultMsg: Type.String(),
  /** One line that names what is wrong. */
  error: Type.String(),
});
export type ErrorBody = Static<typeof ErrorBodySchema>;

export const HealthBodySchema = Type.Object({
  ok: Type.Literal(true),
  version: Type.String(),
  /** Seconds since the server process started. */
  uptime: Type.Number(),
});
export type HealthBody = Static<typeof HealthBodySchema>;

export const OkSchema = Type.Object({ ok: Type.Boolean() });

// ---- path parameters --------------------------------------------------------------------

/** Ids travel as decimal text; one no row can have is "not found", never an error. */
export const RunIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
export const DeviceIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
export const EndpointIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
export const Sha256Params = Type.Object({ sha256: Type.String({ pattern: "^[0-9a-f]{64}$" }) });
export const USER_NAME_PATTERN = "^[a-zA-Z0-9_.-]{1,64}$";
export const UserNameParams = Type.Object({ name: Type.String({ pattern: USER_NAME_PATTERN }) });
export const PlatformQuerySchema = Type.Object({ platform: Type.Optional(Type.String({ maxLength: 64 })) });

// ---- client routes -------------------------------------------------------------------

/** POST /users (admin only). */
const KeyLifetimeDays = Type.Number({ exclusiveMinimum: 0, maximum: 36_500 });
export const CreateUserRequestSchema = Type.Object({
  name: Type.String({ pattern: USER_NAME_PATTERN }),
  isAdmin: Type.Optional(Type.Boolean()),
  /** Ours: the key stops working after this many days (fractions allowed); none = never. */
  expiresInDays: Type.Optional(KeyLifetimeDays),
});
export type CreateUserRequest = Static<typeof CreateUserRequestSchema>;

/** POST /users/:name/rotate (admin only): the user's keys are replaced by one new key. */
export const RotateKeyRequestSchema = Type.Object({ expiresInDays: Type.Optional(KeyLifetimeDays) });
export type RotateKeyRequest = Static<typeof RotateKeyRequestSchema>;
/** POST /users/:name/revoke (admin only): every key of the user stops working. */
export const RevokeKeysResponseSchema = Type.Object({ revoked: Type.Integer() });
export type RevokeKeysResponse = Static<typeof RevokeKeysResponseSchema>;
/** POST /users/:name/disable (admin only); `disabled: false` enables the user again. */
export const DisableUserRequestSchema = Type.Object({ disabled: Type.Optional(Type.Boolean()) });
export type DisableUserRequest = Static<typeof DisableUserRequestSchema>;

/** The key is shown here once and never again: only its hash is stored. */
export const CreateUserResponseSchema = Type.Object({ user: UserModelSchema, apiKey: Type.String() });
export type CreateUserResponse = Static<typeof CreateUserResponseSchema>;

/** PUT /workspaces/:sha256 takes the tar.gz bytes (content-type application/gzip). */
export const PutWorkspaceResponseSchema = Type.Object({
  sha256: Type.String(),
  size: Type.Integer(),
  /** False when the server already had it. */
  created: Type.Boolean(),
});
export type PutWorkspaceResponse = Static<typeof PutWorkspaceResponseSchema>;

/** Where a resumable workspace upload stands: the client sends the rest from `receivedBytes`. */
export const UploadStateSchema = Type.Object({
  sha256: Type.String(),
  /** Total bytes announced; null before any upload began. */
  size: Nullable(Type.Integer()),
  receivedBytes: Type.Integer(),
  /** The blob is on the server and this user may use it: nothing more to send. */
  complete: Type.Boolean(),
  /** On the request that completed it: the bytes were new to the server. */
  created: Type.Optional(Type.Boolean()),
});
export type UploadState = Static<typeof UploadStateSchema>;

/** A 409 on an upload that does not continue where the server is: resend from receivedBytes. */
export const UploadConflictBodySchema = Type.Composite([ErrorBodySchema, Type.Object({ receivedBytes: Type.Integer() })]);
export type UploadConflictBody = Static<typeof UploadConflictBodySchema>;

/** POST /runs: launch. The server parses `yamlText` itself. Answers LaunchResult (models.ts). */
export const LaunchRequestSchema = Type.Object({
  yamlText: Type.String({ maxLength: 1_000_000 }),
  /** For error messages and the default job name: the YAML file's path on the client. */
  yamlPath: Type.Optional(Type.String({ maxLength: 4096 })),
  /** Folder name of the workspace (default job name `<folder>_FedMLLaunchApp`). */
  workspaceName: Type.Optional(Nullable(Type.String({ maxLength: 1024 }))),
  /** sha256 of the uploaded workspace tar.gz; null when the YAML has no workspace. */
  workspaceSha256: Nullable(Type.String({ maxLength: 64 })),
  resourceId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  deviceServer: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  deviceEdges: Type.Optional(Nullable(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 10_000 }))),
  cluster: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
});
export type LaunchRequest = Static<typeof LaunchRequestSchema>;

/** GET /runs?runName=&runId=&platform= answers FedMLRunModelList. */
export const RunListQuerySchema = Type.Object({
  runName: Type.Optional(Type.String({ maxLength: 1024 })),
  runId: Type.Optional(Type.String({ maxLength: 64 })),
  platform: Type.Optional(Type.String({ maxLength: 64 })),
  /** Ours: only runs in these statuses (comma-separated). */
  status: Type.Optional(Type.String({ pattern: "^[A-Z_]+(,[A-Z_]+)*$", maxLength: 512 })),
  /** Ours: at most this many runs, newest first (default 1000). */
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  /** Ours, admins only: every user's runs. */
  allUsers: Type.Optional(Type.Boolean()),
  /** Ours: runs whose name contains this text (any case). */
  nameContains: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  /** Ours: runs of the project with this name. */
  project: Type.Optional(Type.String({ maxLength: 1024 })),
  /** Ours: the runs after this point of the newest-first order: a previous answer's nextCursor. */
  before: Type.Optional(Type.String({ pattern: "^[0-9]{1,16}\\.[0-9]{1,16}$" })),
});
export type RunListQuery = Static<typeof RunListQuerySchema>;
/** GET /devices: admins may ask for every user's devices. */
export const DeviceListQuerySchema = Type.Object({ allUsers: Type.Optional(Type.Boolean()) });
export type DeviceListQuery = Static<typeof DeviceListQuerySchema>;

/** POST /runs/:id/stop */
export const StopRunResponseSchema = Type.Object({ stopped: Type.Boolean(), status: Type.String() });
export type StopRunResponse = Static<typeof StopRunResponseSchema>;

/** GET /runs/:id/logs?pageNum=&pageSize=&needAllLogs= answers RunLogResult. */
export const RunLogsQuerySchema = Type.Object({
  pageNum: Type.Optional(Count({ minimum: 1 })),
  pageSize: Type.Optional(Count({ minimum: 1, maximum: 100_000 })),
  needAllLogs: Type.Optional(Type.Boolean()),
  platform: Type.Optional(Type.String({ maxLength: 64 })),
});
export type RunLogsQuery = Static<typeof RunLogsQuerySchema>;

/** GET /runs/:id/logs/full?deviceId= : the whole log as text. */
export const FullLogQuerySchema = Type.Object({ deviceId: Type.Optional(Type.String({ maxLength: 64 })) });

/**
 * GET /runs/:id/log-lines?deviceId=&afterSeq=&limit=&waitMs= : for following a run. Lines of
 * one device with seq > afterSeq; with waitMs the server holds the request until there is a
 * line or the run ends. Without deviceId: the run's first device (rank order).
 */
export const LogLinesQuerySchema = Type.Object({
  deviceId: Type.Optional(Type.String({ maxLength: 64 })),
  afterSeq: Type.Optional(Count()),
  limit: Type.Optional(Count({ minimum: 1, maximum: 10_000 })),
  waitMs: Type.Optional(Count({ maximum: 3_600_000 })),
});
export type LogLinesQuery = Static<typeof LogLinesQuerySchema>;

export const LogLinesResponseSchema = Type.Object({
  deviceId: Nullable(Type.String()),
  /** `time`: epoch ms when the agent read the line. */
  lines: Type.Array(Type.Object({ seq: Type.Integer(), text: Type.String(), time: Type.Optional(Type.Number()) })),
  /** Pass as afterSeq next time. */
  lastSeq: Type.Integer(),
  runStatus: Type.String(),
  /** The run has ended and every line of this device has been returned. */
  done: Type.Boolean(),
});
export type LogLinesResponse = Static<typeof LogLinesResponseSchema>;

/**
 * GET /runs/:id/log-lines/text (same query as /log-lines): the lines from firstSeq on as
 * blocks of [line count, text]; a block's text is its lines joined by "\n", except a block of
 * one line, whose text is that line as it is (it may hold "\n"). `runs` gives each line's read
 * time and stream, as [line count, epoch ms, 0 stdout | 1 stderr], in order.
 */
export const LogTextResponseSchema = Type.Object({
  deviceId: Nullable(Type.String()),
  firstSeq: Type.Integer(),
  blocks: Type.Array(Type.Tuple([Type.Integer(), Type.String()])),
  runs: Type.Array(Type.Tuple([Type.Integer(), Type.Number(), Type.Integer()])),
  lastSeq: Type.Integer(),
  runStatus: Type.String(),
  done: Type.Boolean(),
});
export type LogTextResponse = Static<typeof LogTextResponseSchema>;

/** GET /runs/:id/detail: what a run's page shows beyond the run model. */
export const RunDetailSchema = Type.Object({
  /** The job YAML the run was launched with, as sent. */
  yamlText: Type.String(),
  /** When the run got its devices (after waiting QUEUED, if it did); null before. */
  placedTime: Nullable(Type.Number()),
});
export type RunDetail = Static<typeof RunDetailSchema>;

/**
 * GET /runs/:id/log-search?deviceId=&text=&afterSeq= (or &beforeSeq= to search back): the next
 * line of that node containing the text, any case.
 */
export const LogSearchQuerySchema = Type.Object({
  deviceId: Type.String({ maxLength: 64 }),
  text: Type.String({ minLength: 1, maxLength: 1024 }),
  afterSeq: Type.Optional(Count()),
  beforeSeq: Type.Optional(Count()),
});
export type LogSearchQuery = Static<typeof LogSearchQuerySchema>;
/** `seq` null: no such line. */
export const LogSearchResponseSchema = Type.Object({ seq: Nullable(Type.Integer()) });
export type LogSearchResponse = Static<typeof LogSearchResponseSchema>;

// ---- clusters ---------------------------------------------------------------------------

/** Cluster names: what a user may type on a command line without quoting. */
export const CLUSTER_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$";
/** An idle cluster stops by itself after this many minutes unless set otherwise. */
export const DEFAULT_CLUSTER_IDLE_MINUTES = 15;

export const ClusterNameParams = Type.Object({ name: Type.String({ maxLength: 1024 }) });

/** GET /clusters?names=a,b answers FedMLClusterModelList; GET /clusters/:name ClusterStatusResult. */
export const ClusterListQuerySchema = Type.Object({
  /** Comma-separated names; none lists every cluster not killed. */
  names: Type.Optional(Type.String({ maxLength: 65_536 })),
});
export type ClusterListQuery = Static<typeof ClusterListQuerySchema>;

/** POST /clusters/start|stop|kill. Unknown names fail the whole request (404, code 15). */
export const ClusterActionRequestSchema = Type.Object({
  names: Type.Optional(Type.Array(Type.String({ pattern: CLUSTER_NAME_PATTERN }), { maxItems: 1000 })),
  /** Every cluster of the caller (startall, stopall, killall). */
  all: Type.Optional(Type.Boolean()),
});
export type ClusterActionRequest = Static<typeof ClusterActionRequestSchema>;

export const ClusterActionResponseSchema = Type.Object({
  /** Every named cluster is now in the wanted state (the SDK's boolean). */
  done: Type.Boolean(),
  clusterList: Type.Array(FedMLClusterModelSchema),
  /** The clusters that could not be brought there, each with why (code 15 or 16). */
  failures: Type.Array(Type.Object({ clusterName: Type.String(), resultCode: Type.Integer(), reason: Type.String() })),
});
export type ClusterActionResponse = Static<typeof ClusterActionResponseSchema>;

/** PUT /clusters/:name/autostop answers the cluster's FedMLClusterModel. */
export const ClusterAutostopRequestSchema = Type.Object({
  /** Minutes without a live run before the cluster stops by itself; 0 = never. */
  idleMinutes: Amount({ maximum: 1e9 }),
});
export type ClusterAutostopRequest = Static<typeof ClusterAutostopRequestSchema>;

// ---- agent routes --------------------------------------------------------------------

/**
 * What an agent tells the server about its machine. The sane ranges of these values (and the
 * messages naming them) are the server's (devices/reported-values.ts): the schema only keeps
 * out what no check could read.
 */
export const DeviceFactsSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  hostname: Type.String(),
  osType: Type.String(),
  osVersion: Type.String(),
  cpuCount: Type.Number({ minimum: 0 }),
  memoryBytes: Type.Number({ minimum: 0 }),
  gpus: Type.Array(GpuInfoSchema, { maxItems: 1024 }),
  agentVersion: Type.String(),
  /** Address other nodes of a run reach this one at (FEDML_NODE_0_ADDR). */
  address: Type.String(),
  provider: Type.String(),
  region: Type.String(),
  pricePerGpuHour: Type.Number({ minimum: 0 }),
  shared: Type.Boolean(),
  simulated: Type.Boolean(),
  /** How many runs may share the machine at once (GPU runs are also bounded by GPUs). */
  maxJobs: Type.Number({ minimum: 1 }),
  /** Why no GPU was found (nvidia-smi missing, failing or not understood); null when fine. */
  gpuError: Type.Optional(Nullable(Type.String())),
  /** "docker" or "podman" when the agent can run container jobs; null or absent when not. */
  containerRuntime: Type.Optional(Nullable(Type.String({ maxLength: 40 }))),
  /** A batch cluster (Slurm partition) as one device: its nodes, shown by `fedml device list`. */
  clusterNodes: Type.Optional(Nullable(Type.Array(ClusterNodeSchema, { maxItems: 100_000 }))),
});
export type DeviceFacts = Static<typeof DeviceFactsSchema>;

export const RegisterRequestSchema = Type.Object({
  facts: DeviceFactsSchema,
  /** Re-binding a machine that was bound before keeps its device id. */
  previousDeviceId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
});
export type RegisterRequest = Static<typeof RegisterRequestSchema>;

export const RegisterResponseSchema = Type.Object({ deviceId: Type.String(), deviceToken: Type.String() });
export type RegisterResponse = Static<typeof RegisterResponseSchema>;

/** POST /agent/hello: on every agent start, and after the server comes back. */
export const HelloRequestSchema = Type.Object({
  facts: DeviceFactsSchema,
  /** Runs the agent has a live process for. Any other run the server thinks is live on
   *  this device has been lost (the agent restarted) and ends FAILED. */
  activeRunIds: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100_000 }),
});
export type HelloRequest = Static<typeof HelloRequestSchema>;

export const HelloResponseSchema = Type.Object({
  deviceId: Type.String(),
  /** Milliseconds of silence after which the server marks the device OFFLINE. */
  offlineAfterMs: Type.Integer(),
  /**
   * The agent's hold on its run parts: each assignment poll renews it (counted from when the
   * poll was sent, on the agent's monotonic clock). An agent that could not renew for leaseMs
   * stops its jobs (SIGTERM, SIGKILL after leaseKillGraceMs): after that the server may
   * declare them lost and place them elsewhere. Absent from older servers: no lease.
   */
  leaseMs: Type.Optional(Type.Integer()),
  leaseKillGraceMs: Type.Optional(Type.Integer()),
});
export type HelloResponse = Static<typeof HelloResponseSchema>;

/** A serve / deploy run's endpoint and readiness probe (`serving_args`; absent: `GET /` every second). */
export const ServingAssignmentSchema = Type.Object({
  endpointId: Type.String(),
  probePath: Type.Optional(Type.String()),
  probeIntervalMs: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type ServingAssignment = Static<typeof ServingAssignmentSchema>;

export const ContainerSpecSchema = Type.Object({
  image: Type.String(),
  registry: Nullable(Type.String()),
  username: Nullable(Type.String()),
  password: Nullable(Type.String()),
  ports: Type.Array(Type.Integer()),
});
export type ContainerSpec = Static<typeof ContainerSpecSchema>;

/** The work the server wants on one device for one run. */
export const AssignmentSchema = Type.Object({
  runId: Type.String(),
  /** FEDML_CLIENT_RANK. */
  rank: Type.Integer(),
  /** 0-based position among the run's devices (NODE_RANK). */
  nodeIndex: Type.Integer(),
  numNodes: Type.Integer(),
  gpuIndices: Type.Array(Type.Integer()),
  workspaceSha256: Nullable(Type.String()),
  bootstrap: Nullable(CommandSpecSchema),
  job: CommandSpecSchema,
  /** Every variable the job gets from us, CUDA_VISIBLE_DEVICES included. */
  env: Type.Record(Type.String(), Type.String()),
  /** The user asked to stop: SIGTERM the process group, SIGKILL after stopGraceMs. */
  stopRequested: Type.Boolean(),
  stopGraceMs: Type.Integer(),
  /**
   * Serve / deploy jobs: the agent picks a free port, gives it to the job as
   * FEDML_SERVING_PORT, probes `GET http://127.0.0.1:<port>/` and reports the port and
   * readiness on POST /agent/runs/:id/serving. Inference reaches the job through the agent's
   * tunnel (tunnel.ts), never by the server dialing the device. Absent for every other job.
   */
  serving: Type.Optional(Nullable(ServingAssignmentSchema)),
  /** What the agent enforces on the run (cgroup): `computing.memory` and `computing.cpus`. */
  limits: Type.Optional(
    Nullable(
      Type.Object({
        memoryBytes: Nullable(Type.Number()),
        cpus: Nullable(Type.Number()),
        /** `computing.time_limit`: batch devices (Slurm) submit it as the job's time limit. */
        timeLimitSeconds: Type.Optional(Nullable(Type.Number())),
      }),
    ),
  ),
  /** Container jobs (`docker:` in the YAML): the image the job must run in, never on the host. */
  container: Type.Optional(Nullable(ContainerSpecSchema)),
});
export type Assignment = Static<typeof AssignmentSchema>;

/**
 * POST /agent/runs/:id/serving: the job's serving port, and whether it answered the probe.
 * Sent when readiness changes: ready once the probe answers, not ready after it failed three
 * times in a row (the replica leaves the load balancer's rotation until it answers again).
 */
export const ServingReportSchema = Type.Object({
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  ready: Type.Boolean(),
});
export type ServingReport = Static<typeof ServingReportSchema>;

/**
 * GET /agent/assignments?since=<version>&waitMs=<ms>: also the heartbeat. Answers at once
 * when the device's assignment version is above `since`, else holds up to waitMs. The list is
 * the whole desired state: every run not yet ended on this device. The agent starts the ones
 * it does not know, stops those with stopRequested, and ignores those it has finished (it
 * re-sends their final status).
 */
export const AssignmentsQuerySchema = Type.Object({
  since: Type.Optional(Count()),
  waitMs: Type.Optional(Count({ maximum: 3_600_000 })),
});
export type AssignmentsQuery = Static<typeof AssignmentsQuerySchema>;

export const AssignmentsResponseSchema = Type.Object({
  version: Type.Integer(),
  assignments: Type.Array(AssignmentSchema),
});
export type AssignmentsResponse = Static<typeof AssignmentsResponseSchema>;

/** POST /agent/runs/:id/status. Idempotent: a repeated report changes nothing. */
export const RunStatusReportSchema = Type.Object({
  /** An EdgeStatus: INITIALIZING, RUNNING, FINISHED, FAILED, KILLED. */
  status: Type.String({ maxLength: 64 }),
  exitCode: Type.Optional(Nullable(Int32())),
  /** Long reasons are cut to size by the server, not refused. */
  reason: Type.Optional(Nullable(Type.String())),
  /** On a final report: how long the job ran since RUNNING, on the agent's monotonic clock. */
  runtimeMs: Type.Optional(Nullable(Amount())),
});
export type RunStatusReport = Static<typeof RunStatusReportSchema>;

/**
 * POST /agent/reports: the status reports of several runs of this device at once, each as
 * POST /agent/runs/:id/status would take it. The server applies them in one transaction, in
 * order for each run (a run's RUNNING before its FINISHED), each still conditional on the
 * state it finds, and answers only after the commit: an answered report is durable.
 */
export const RunReportEntrySchema = Type.Composite([
  Type.Object({ runId: Type.String({ maxLength: 64 }) }),
  RunStatusReportSchema,
]);
export type RunReportEntry = Static<typeof RunReportEntrySchema>;

export const RunReportBatchSchema = Type.Object({ reports: Type.Array(RunReportEntrySchema, { minItems: 1, maxItems: 1000 }) });
export type RunReportBatch = Static<typeof RunReportBatchSchema>;

/** One answer per report, in the request's order. */
export const RunReportOutcomeSchema = Type.Object({
  /** The HTTP status the report alone would have had: 200 taken (or its part had ended already), 4xx refused for good. */
  status: Type.Integer(),
  resultCode: Type.Optional(Type.Integer()),
  error: Type.Optional(Type.String()),
});
export type RunReportOutcome = Static<typeof RunReportOutcomeSchema>;

export const RunReportBatchResponseSchema = Type.Object({ results: Type.Array(RunReportOutcomeSchema) });
export type RunReportBatchResponse = Static<typeof RunReportBatchResponseSchema>;

export const LogLineSchema = Type.Object({
  /** 1-based, contiguous per (run, device); the server stores each seq once. */
  seq: Count({ minimum: 1 }),
  text: Type.String(),
  stream: Type.Union([Type.Literal("stdout"), Type.Literal("stderr")]),
  /** Epoch ms when the agent read the line. */
  time: Big(),
});
export type LogLine = Static<typeof LogLineSchema>;

/** POST /agent/runs/:id/logs */
export const LogBatchRequestSchema = Type.Object({ lines: Type.Array(LogLineSchema, { maxItems: 10_000 }) });
export type LogBatchRequest = Static<typeof LogBatchRequestSchema>;

export const LogBatchResponseSchema = Type.Object({
  /** Highest seq stored for this (run, device); the agent drops what it holds up to it. */
  ackedSeq: Type.Integer(),
});
export type LogBatchResponse = Static<typeof LogBatchResponseSchema>;

/**
 * POST /agent/runs/:id/logs/text: lines firstSeq.. as one text, each line followed by "\n" (so a
 * line holds no "\n"), and runs of [line count, epoch ms read, 0 stdout | 1 stderr] covering
 * every line in order. Answered like POST /agent/runs/:id/logs.
 */
export const LogTextBatchSchema = Type.Object({
  firstSeq: Count({ minimum: 1 }),
  text: Type.String(),
  runs: Type.Array(Type.Tuple([Count({ minimum: 1 }), Big(), Type.Union([Type.Literal(0), Type.Literal(1)])]), {
    maxItems: 100_000,
  }),
});
export type LogTextBatch = Static<typeof LogTextBatchSchema>;

/** A 409 on POST /agent/runs/:id/logs (a batch that does not follow ackedSeq): resend from ackedSeq + 1. */
export const LogBatchConflictBodySchema = Type.Composite([ErrorBodySchema, Type.Object({ ackedSeq: Type.Integer() })]);
export type LogBatchConflictBody = Static<typeof LogBatchConflictBodySchema>;

// ---- list answers (added by the SDK/CLI) ------------------------------------------------

/** GET /devices answers the devices the caller may see (`fedml device list`). */
export const DeviceListResponseSchema = Type.Object({ deviceList: Type.Array(DeviceModelSchema) });
export type DeviceListResponse = Static<typeof DeviceListResponseSchema>;

/** DELETE /devices/:id */
export const RemovedSchema = Type.Object({ removed: Type.Boolean(), deviceId: Type.String() });

/** GET /users (admin only) answers every user (`fedml user list`). */
export const UserListResponseSchema = Type.Object({ userList: Type.Array(UserModelSchema) });
export type UserListResponse = Static<typeof UserListResponseSchema>;

/** GET /endpoints answers the caller's live endpoints (`fedml endpoint list`). */
export const EndpointListResponseSchema = Type.Object({ endpointList: Type.Array(EndpointModelSchema) });
export type EndpointListResponse = Static<typeof EndpointListResponseSchema>;

/** DELETE /endpoints/:id stops the endpoint's run and removes the endpoint. */
export const DeleteEndpointResponseSchema = Type.Object({
  deleted: Type.Boolean(),
  endpointId: Type.String(),
  runId: Type.String(),
});
export type DeleteEndpointResponse = Static<typeof DeleteEndpointResponseSchema>;
