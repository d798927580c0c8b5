import { homedir } from "node:os";
import { join } from "node:path";
import { type Clock, systemClock } from "./clock.js";
import type { S3Settings } from "./workspaces/s3-settings.js";

export interface ServerOptions {
  /** FEDML_HOME: the server keeps its database, blobs and key under `<home>/server`. */
  home: string;
  host?: string;
  /** Omitted: listen on a random free port. */
  port?: number;
  /** postgres://... selects PostgreSQL; anything else (or nothing) the SQLite file. */
  databaseUrl?: string;
  /** The URL users and agents reach this server at; defaults to the listening URL. */
  publicUrl?: string;
  /**
   * The URL the other replicas reach this one at, to hand it inference requests for the agent
   * tunnels it holds. Default: the listening URL; on every interface, the first external address.
   */
  peerUrl?: string;
  /** Silence after which a device shows OFFLINE and takes no new runs (its runs keep their leases). */
  offlineAfterMs?: number;
  /**
   * How long an agent's hold on its run parts lasts without a renewal (each assignment poll
   * renews it). An agent that could not renew for this long stops its jobs; the server declares
   * a silent device's parts lost only after the lease, the agent's kill grace and a margin.
   * Default: 3 x offlineAfterMs. Server stalls shorter than the lease cost no run.
   */
  leaseMs?: number;
  /** After a stop request, how long the server waits for the agent's KILLED before it ends the part itself. */
  stopAckDeadlineMs?: number;
  /** One workspace (blob). */
  maxWorkspaceBytes?: number;
  /** Every workspace blob together (least recently used evicted first). */
  workspaceStoreBytes?: number;
  /** One user's workspace blobs together. */
  userWorkspaceBytes?: number;
  /** Workspace bytes in this S3-compatible bucket instead of the database. */
  s3?: S3Settings;
  /** Log text one run part may store; later lines are dropped after a marker line. */
  runLogBytes?: number;
  /** Log text one user's runs may store together. */
  userLogBytes?: number;
  /** Logs of runs that ended longer ago than this are replaced by a one-line notice; 0 keeps them. */
  logRetentionDays?: number;
  /**
   * SQLite: "exclusive" (default): nothing else may open the file while the server runs, and
   * no part of it is memory-mapped; "shared": other processes may read it (backup tools,
   * benches), through a memory-mapped `-shm` index whose faults are fatal (SIGBUS).
   */
  sqliteAccess?: "exclusive" | "shared";
  stopGraceMs?: number;
  pollMaxWaitMs?: number;
  /**
   * A held assignments poll of a device that was woken less than a second before waits this
   * long after its wake before answering, so a burst of placements goes out in one answer.
   */
  assignmentCoalesceMs?: number;
  logLevel?: string;
  /**
   * How far the JavaScript heap may grow past what a full collection left, in percent: set for
   * the whole process by fedml-server at start (v8-settings.ts), not by buildServer.
   */
  heapGrowthPercent?: number;
  /** Period of the storage sweep (workspace eviction, abandoned uploads, log retention). */
  storageSweepMs?: number;
  /** Period of the offline sweep and queue tick. */
  tickMs?: number;
  /** For tests only: faults injected into the store and the scheduler. */
  testHooks?: TestHooks;
  /** Wall and monotonic time (tests inject their own). */
  clock?: Clock;
  /** How long reading one job YAML may take before it is refused (code 17). */
  yamlParseTimeoutMs?: number;
}

/** Test-only hooks; a server started without them pays nothing for their existence. */
export interface TestHooks {
  /** Called before every insert, update and delete; throwing fails that write. */
  beforeWrite?: (write: { kind: "insert" | "update" | "delete"; table: string }) => void;
  /** Awaited at the start of every queue pass: throw or hang to break the scheduler. */
  beforeQueuePass?: () => Promise<void>;
}

export type ResolvedOptions = Required<
  Omit<ServerOptions, "port" | "databaseUrl" | "publicUrl" | "peerUrl" | "testHooks" | "s3" | "heapGrowthPercent">
> &
  Pick<ServerOptions, "port" | "databaseUrl" | "publicUrl" | "peerUrl" | "testHooks" | "s3"> & {
    /** SIGTERM to SIGKILL when an agent's lease runs out (told to agents in hello). */
    leaseKillGraceMs: number;
    /** Silence after which a device's parts count as lost: lease + kill grace + margin for clock rates and scheduling. */
    partLostAfterMs: number;
  };

export const MiB = 1024 * 1024;

export function resolveOptions(options: ServerOptions): ResolvedOptions {
  const offlineAfterMs = options.offlineAfterMs ?? 30_000;
  const stopGraceMs = options.stopGraceMs ?? 10_000;
  const leaseMs = options.leaseMs ?? 3 * offlineAfterMs;
  const leaseKillGraceMs = Math.min(stopGraceMs, Math.floor(leaseMs / 4));
  return {
    leaseMs,
    leaseKillGraceMs,
    partLostAfterMs: leaseMs + leaseKillGraceMs + Math.floor(leaseMs / 4),
    stopAckDeadlineMs: options.stopAckDeadlineMs ?? stopGraceMs + 60_000,
    home: options.home,
    host: options.host ?? "127.0.0.1",
    port: options.port,
    databaseUrl: options.databaseUrl,
    publicUrl: options.publicUrl?.replace(/\/+$/, ""),
    peerUrl: options.peerUrl,
    offlineAfterMs,
    maxWorkspaceBytes: options.maxWorkspaceBytes ?? 500 * MiB,
    workspaceStoreBytes: options.workspaceStoreBytes ?? 20 * 1024 * MiB,
    userWorkspaceBytes: options.userWorkspaceBytes ?? 2 * 1024 * MiB,
    s3: options.s3,
    runLogBytes: options.runLogBytes ?? 100 * MiB,
    userLogBytes: options.userLogBytes ?? 2 * 1024 * MiB,
    logRetentionDays: options.logRetentionDays ?? 30,
    sqliteAccess: options.sqliteAccess ?? "exclusive",
    storageSweepMs: options.storageSweepMs ?? 60_000,
    stopGraceMs,
    pollMaxWaitMs: options.pollMaxWaitMs ?? 20_000,
    assignmentCoalesceMs: options.assignmentCoalesceMs ?? 5,
    logLevel: options.logLevel ?? "info",
    tickMs: options.tickMs ?? 1000,
    testHooks: options.testHooks,
    clock: options.clock ?? systemClock,
    yamlParseTimeoutMs: options.yamlParseTimeoutMs ?? 2000,
  };
}

export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.FEDML_HOME ?? join(homedir(), ".fedml");
}

export function serverDir(home: string): string {
  return join(home, "server");
}

export function isPostgresUrl(url: string | undefined): url is string {
  return !!url && /^postgres(ql)?:\/\//i.test(url);
}
