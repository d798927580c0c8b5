/** Run statuses of the original, in its spelling. Unknown strings map to UNDETERMINED. */
export const RunStatus = {
  NOT_STARTED: "NOT_STARTED",
  QUEUED: "QUEUED",
  STARTING: "STARTING",
  RUNNING: "RUNNING",
  STOPPING: "STOPPING",
  KILLED: "KILLED",
  FAILED: "FAILED",
  FINISHED: "FINISHED",
  ABANDONED: "ABANDONED",
  LAUNCHED: "LAUNCHED",
  ERROR: "ERROR",
  BLOCKED: "BLOCKED",
  PRE_QUEUE: "PRE_QUEUE",
  INVALID: "INVALID",
  CLUSTER_QUEUE: "CLUSTER_QUEUE",
  PROVISIONING: "PROVISIONING",
  UNDETERMINED: "UNDETERMINED",
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

/** Statuses after which a run never changes again. */
export const TERMINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set<RunStatus>([
  RunStatus.KILLED,
  RunStatus.FAILED,
  RunStatus.FINISHED,
  RunStatus.ABANDONED,
  RunStatus.ERROR,
  RunStatus.INVALID,
]);

export function isTerminalRunStatus(status: string): boolean {
  return TERMINAL_RUN_STATUSES.has(status as RunStatus);
}

export function toRunStatus(value: string): RunStatus {
  return value in RunStatus ? (value as RunStatus) : RunStatus.UNDETERMINED;
}

/** A whole machine, as the device list shows it. */
export const DeviceStatus = {
  IDLE: "IDLE",
  UPGRADING: "UPGRADING",
  RUNNING: "RUNNING",
  OFFLINE: "OFFLINE",
} as const;
export type DeviceStatus = (typeof DeviceStatus)[keyof typeof DeviceStatus];

/** One device's part in one run (the original's "edge" statuses). */
export const EdgeStatus = {
  OFFLINE: "OFFLINE",
  PROVISIONING: "PROVISIONING",
  IDLE: "IDLE",
  UPGRADING: "UPGRADING",
  QUEUED: "QUEUED",
  INITIALIZING: "INITIALIZING",
  TRAINING: "TRAINING",
  RUNNING: "RUNNING",
  STOPPING: "STOPPING",
  KILLED: "KILLED",
  FAILED: "FAILED",
  EXCEPTION: "EXCEPTION",
  FINISHED: "FINISHED",
} as const;
export type EdgeStatus = (typeof EdgeStatus)[keyof typeof EdgeStatus];

export const TERMINAL_EDGE_STATUSES: ReadonlySet<string> = new Set([
  EdgeStatus.KILLED,
  EdgeStatus.FAILED,
  EdgeStatus.EXCEPTION,
  EdgeStatus.FINISHED,
]);

/**
 * A run's status from its devices' statuses: any failed -> FAILED, all finished -> FINISHED,
 * all killed (or killed and finished) -> KILLED; otherwise the least advanced live status.
 */
export function rollUpRunStatus(edgeStatuses: readonly string[]): RunStatus {
  if (edgeStatuses.length === 0) return RunStatus.QUEUED;
  if (edgeStatuses.some((s) => s === EdgeStatus.FAILED || s === EdgeStatus.EXCEPTION)) {
    return RunStatus.FAILED;
  }
  if (edgeStatuses.every((s) => s === EdgeStatus.FINISHED)) return RunStatus.FINISHED;
  if (edgeStatuses.every((s) => TERMINAL_EDGE_STATUSES.has(s))) return RunStatus.KILLED;
  if (edgeStatuses.some((s) => s === EdgeStatus.STOPPING || s === EdgeStatus.KILLED)) {
    return RunStatus.STOPPING;
  }
  if (edgeStatuses.every((s) => s === EdgeStatus.RUNNING || s === EdgeStatus.TRAINING || s === EdgeStatus.FINISHED)) {
    return RunStatus.RUNNING;
  }
  return RunStatus.STARTING;
}

export const ClusterStatus = {
  IDLE: "IDLE",
  RUNNING: "RUNNING",
  STOPPED: "STOPPED",
  TERMINATED: "TERMINATED",
} as const;
export type ClusterStatus = (typeof ClusterStatus)[keyof typeof ClusterStatus];

/** The `platform` argument. Unknown names fall back to falcon, as in the original. */
export const PLATFORMS = ["octopus", "parrot", "spider", "beehive", "falcon", "launch", "cheetah"] as const;
export type Platform = (typeof PLATFORMS)[number];

export function normalizePlatform(value: string | undefined | null): Platform {
  const v = (value ?? "falcon").toLowerCase();
  if (v === "launch") return "falcon";
  return (PLATFORMS as readonly string[]).includes(v) ? (v as Platform) : "falcon";
}

/** Serving endpoints: DEPLOYING until the job answers the readiness probe, then READY. */
export const EndpointStatus = {
  DEPLOYING: "DEPLOYING",
  READY: "READY",
  /** The run ended without being asked to stop. */
  FAILED: "FAILED",
  /** Stopped or deleted: the proxy no longer reaches it. */
  REMOVED: "REMOVED",
} as const;
export type EndpointStatus = (typeof EndpointStatus)[keyof typeof EndpointStatus];

/** An endpoint's replica (one run of the serve job). Only READY ones get requests. */
export const ReplicaStatus = {
  STARTING: "STARTING",
  READY: "READY",
  /** Was ready, then failed its readiness probe: out of rotation until it answers again. */
  UNHEALTHY: "UNHEALTHY",
  /** Replaced (rolling update, scale-down): gets no new requests, stopped once idle. */
  DRAINING: "DRAINING",
  ENDED: "ENDED",
} as const;
export type ReplicaStatus = (typeof ReplicaStatus)[keyof typeof ReplicaStatus];
