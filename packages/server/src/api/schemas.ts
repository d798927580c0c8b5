import { type TSchema, Type } from "@sinclair/typebox";

/** Typebox schemas of the contract's bodies (packages/core protocol.ts and models.ts). */
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const ErrorBodySchema = Type.Object({ resultCode: Type.Integer(), resultMsg: Type.String(), error: Type.String() });

export const HealthSchema = Type.Object({ ok: Type.Literal(true), version: Type.String(), uptime: Type.Number() });

export const UserSchema = Type.Object({
  userId: Type.String(),
  name: Type.String(),
  isAdmin: Type.Boolean(),
  createdTime: Type.Number(),
});

export const CreateUserRequestSchema = Type.Object({
  name: Type.String({ pattern: "^[a-zA-Z0-9_.-]{1,64}$" }),
  isAdmin: Type.Optional(Type.Boolean()),
});
export const CreateUserResponseSchema = Type.Object({ user: UserSchema, apiKey: Type.String() });
export const UserListSchema = Type.Object({ userList: Type.Array(UserSchema) });

export const Sha256Params = Type.Object({ sha256: Type.String({ pattern: "^[0-9a-f]{64}$" }) });
export const PutWorkspaceResponseSchema = Type.Object({
  sha256: Type.String(),
  size: Type.Integer(),
  created: Type.Boolean(),
});

export const LaunchRequestSchema = Type.Object({
  yamlText: Type.String({ maxLength: 1_000_000 }),
  yamlPath: Type.Optional(Type.String()),
  workspaceName: Type.Optional(Nullable(Type.String())),
  workspaceSha256: Nullable(Type.String()),
  resourceId: Type.Optional(Nullable(Type.String())),
  deviceServer: Type.Optional(Nullable(Type.String())),
  deviceEdges: Type.Optional(Nullable(Type.Array(Type.String()))),
  cluster: Type.Optional(Nullable(Type.String())),
});
export const LaunchResultSchema = Type.Object({
  resultCode: Type.Integer(),
  resultMsg: Type.String(),
  runId: Nullable(Type.String()),
  projectId: Nullable(Type.String()),
  innerId: Nullable(Type.String()),
});

export const RunIdParams = Type.Object({ id: Type.String() });

export const DeviceInfoSchema = Type.Object({
  deviceId: Type.String(),
  gpuCount: Type.Integer(),
  osType: Type.String(),
  osVersion: Type.String(),
  name: Type.Optional(Type.String()),
  rank: Type.Optional(Type.Integer()),
  status: Type.Optional(Type.String()),
  gpuIndices: Type.Optional(Type.Array(Type.Integer())),
  exitCode: Type.Optional(Nullable(Type.Integer())),
});

export const RunSchema = Type.Object({
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
  projectId: Type.String(),
  projectName: Type.String(),
  jobType: Type.String(),
  platform: Type.String(),
  createdTime: Type.Number(),
  exitCode: Nullable(Type.Integer()),
  reason: Nullable(Type.String()),
});
export const RunListSchema = Type.Object({ runList: Type.Array(RunSchema) });
export const RunListQuerySchema = Type.Object({
  runName: Type.Optional(Type.String()),
  runId: Type.Optional(Type.String()),
  platform: Type.Optional(Type.String()),
});

export const StopRunResponseSchema = Type.Object({ stopped: Type.Boolean(), status: Type.String() });

export const RunLogsQuerySchema = Type.Object({
  pageNum: Type.Optional(Type.Integer({ minimum: 1 })),
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  needAllLogs: Type.Optional(Type.Boolean()),
  platform: Type.Optional(Type.String()),
});
export const RunLogResultSchema = Type.Object({
  runStatus: Nullable(Type.String()),
  totalLogLines: Type.Integer(),
  totalLogPages: Type.Integer(),
  logLineList: Type.Array(Type.String()),
  runLogs: Nullable(
    Type.Object({
      logFullUrl: Type.String(),
      logDevices: Type.Array(Type.Object({ logUrl: Type.String(), name: Type.String(), id: Type.String() })),
      totalNum: Type.Integer(),
      totalPages: Type.Integer(),
      currentPage: Type.Integer(),
      logLines: Type.Array(Type.String()),
    }),
  ),
});
export const FullLogQuerySchema = Type.Object({ deviceId: Type.Optional(Type.String()) });

export const LogLinesQuerySchema = Type.Object({
  deviceId: Type.Optional(Type.String()),
  afterSeq: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  waitMs: Type.Optional(Type.Integer({ minimum: 0 })),
});
export const LogLinesResponseSchema = Type.Object({
  deviceId: Nullable(Type.String()),
  lines: Type.Array(Type.Object({ seq: Type.Integer(), text: Type.String() })),
  lastSeq: Type.Integer(),
  runStatus: Type.String(),
  done: Type.Boolean(),
});

export const GpuSchema = Type.Object({
  index: Type.Integer(),
  name: Type.String(),
  memoryMiB: Type.Number(),
  uuid: Type.Optional(Type.String()),
  utilization: Type.Optional(Type.Number()),
  memoryUsedMiB: Type.Optional(Type.Number()),
});

export const DeviceSchema = Type.Object({
  deviceId: Type.String(),
  name: Type.String(),
  status: Type.String(),
  osType: Type.String(),
  osVersion: Type.String(),
  hostname: Type.String(),
  cpuCount: Type.Integer(),
  memoryBytes: Type.Number(),
  gpus: Type.Array(GpuSchema),
  gpuCount: Type.Integer(),
  provider: Type.String(),
  region: Type.String(),
  pricePerGpuHour: Type.Number(),
  shared: Type.Boolean(),
  simulated: Type.Boolean(),
  ownerName: Type.String(),
  lastSeenTime: Nullable(Type.Number()),
  runningRunIds: Type.Array(Type.String()),
  gpuError: Type.Optional(Nullable(Type.String())),
});
export const DeviceListSchema = Type.Object({ deviceList: Type.Array(DeviceSchema) });
export const DeviceIdParams = Type.Object({ id: Type.String() });
export const RemovedSchema = Type.Object({ removed: Type.Boolean(), deviceId: Type.String() });

export const DeviceFactsSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  hostname: Type.String(),
  osType: Type.String(),
  osVersion: Type.String(),
  cpuCount: Type.Number({ minimum: 0 }),
  memoryBytes: Type.Number({ minimum: 0 }),
  gpus: Type.Array(GpuSchema),
  agentVersion: Type.String(),
  address: Type.String(),
  provider: Type.String(),
  region: Type.String(),
  pricePerGpuHour: Type.Number({ minimum: 0 }),
  shared: Type.Boolean(),
  simulated: Type.Boolean(),
  maxJobs: Type.Number({ minimum: 1 }),
  gpuError: Type.Optional(Nullable(Type.String())),
});
export const RegisterRequestSchema = Type.Object({
  facts: DeviceFactsSchema,
  previousDeviceId: Type.Optional(Nullable(Type.String())),
});
export const RegisterResponseSchema = Type.Object({ deviceId: Type.String(), deviceToken: Type.String() });
export const HelloRequestSchema = Type.Object({ facts: DeviceFactsSchema, activeRunIds: Type.Array(Type.String()) });
export const HelloResponseSchema = Type.Object({
  deviceId: Type.String(),
  offlineAfterMs: Type.Integer(),
  leaseMs: Type.Optional(Type.Integer()),
  leaseKillGraceMs: Type.Optional(Type.Integer()),
});

const CommandSchema = Type.Object({ posix: Nullable(Type.String()), windows: Nullable(Type.String()) });
export const AssignmentsQuerySchema = Type.Object({
  since: Type.Optional(Type.Integer({ minimum: 0 })),
  waitMs: Type.Optional(Type.Integer({ minimum: 0 })),
});
export const AssignmentsResponseSchema = Type.Object({
  version: Type.Integer(),
  assignments: Type.Array(
    Type.Object({
      runId: Type.String(),
      rank: Type.Integer(),
      nodeIndex: Type.Integer(),
      numNodes: Type.Integer(),
      gpuIndices: Type.Array(Type.Integer()),
      workspaceSha256: Nullable(Type.String()),
      bootstrap: Nullable(CommandSchema),
      job: CommandSchema,
      env: Type.Record(Type.String(), Type.String()),
      stopRequested: Type.Boolean(),
      stopGraceMs: Type.Integer(),
      serving: Type.Optional(Nullable(Type.Object({ endpointId: Type.String() }))),
    }),
  ),
});
export const RunStatusReportSchema = Type.Object({
  status: Type.String(),
  exitCode: Type.Optional(Nullable(Type.Integer())),
  reason: Type.Optional(Nullable(Type.String())),
  runtimeMs: Type.Optional(Nullable(Type.Number())),
});
export const OkSchema = Type.Object({ ok: Type.Boolean() });
export const LogBatchRequestSchema = Type.Object({
  lines: Type.Array(
    Type.Object({
      // The seq column is a 32-bit integer on both databases.
      seq: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
      text: Type.String(),
      stream: Type.Union([Type.Literal("stdout"), Type.Literal("stderr")]),
      time: Type.Number(),
    }),
    { maxItems: 10_000 },
  ),
});
export const LogBatchResponseSchema = Type.Object({ ackedSeq: Type.Integer() });
/** 409: the batch starts past a gap; the agent resends from ackedSeq + 1. */
export const LogGapSchema = Type.Object({
  resultCode: Type.Integer(),
  resultMsg: Type.String(),
  error: Type.String(),
  ackedSeq: Type.Integer(),
});

/** Error answers every authenticated route may give. */
export const authErrors = { 401: ErrorBodySchema, 404: ErrorBodySchema, 400: ErrorBodySchema };

export const ServingReportSchema = Type.Object({
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  ready: Type.Boolean(),
});
export const EndpointSchema = Type.Object({
  endpointId: Type.String(),
  endpointName: Type.String(),
  runId: Type.String(),
  status: Type.String(),
  inferenceUrl: Type.String(),
  modelName: Nullable(Type.String()),
  modelVersion: Nullable(Type.String()),
  deviceId: Nullable(Type.String()),
  createdTime: Type.Number(),
  readyTime: Nullable(Type.Number()),
  minReplicas: Type.Integer(),
  maxReplicas: Type.Integer(),
  desiredReplicas: Type.Integer(),
  generation: Type.Integer(),
  requestCount: Type.Integer(),
  errorCount: Type.Integer(),
  inflightRequests: Type.Integer(),
  replicas: Type.Array(
    Type.Object({
      runId: Type.String(),
      deviceId: Nullable(Type.String()),
      status: Type.String(),
      generation: Type.Integer(),
      requestCount: Type.Integer(),
      errorCount: Type.Integer(),
      inflightRequests: Type.Integer(),
      readyTime: Nullable(Type.Number()),
      endedTime: Nullable(Type.Number()),
    }),
  ),
});
export const EndpointListSchema = Type.Object({ endpointList: Type.Array(EndpointSchema) });
export const EndpointIdParams = Type.Object({ id: Type.String() });
export const DeleteEndpointResponseSchema = Type.Object({
  deleted: Type.Boolean(),
  endpointId: Type.String(),
  runId: Type.String(),
});
export const PlatformQuerySchema = Type.Object({ platform: Type.Optional(Type.String()) });
