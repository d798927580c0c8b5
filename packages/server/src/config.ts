import { homedir } from "node:os";
import { join } from "node:path";

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
  offlineAfterMs?: number;
  /** One workspace (blob). */
  maxWorkspaceBytes?: number;
  /** Every workspace blob together (least recently used evicted first). */
  workspaceStoreBytes?: number;
  /** One user's workspace blobs together. */
  userWorkspaceBytes?: number;
  /** Log text one run part may store; later lines are dropped after a marker line. */
  runLogBytes?: number;
  /** Log text one user's runs may store together. */
  userLogBytes?: number;
  /** Logs of runs that ended longer ago than this are replaced by a one-line notice; 0 keeps them. */
  logRetentionDays?: number;
  stopGraceMs?: number;
  pollMaxWaitMs?: number;
  logLevel?: string;
  /** Period of the storage sweep (workspace eviction, abandoned uploads, log retention). */
  storageSweepMs?: number;
  /** Period of the offline sweep and queue tick. */
  tickMs?: number;
}

export type ResolvedOptions = Required<Omit<ServerOptions, "port" | "databaseUrl" | "publicUrl">> &
  Pick<ServerOptions, "port" | "databaseUrl" | "publicUrl">;

export const MiB = 1024 * 1024;

export function resolveOptions(options: ServerOptions): ResolvedOptions {
  return {
    home: options.home,
    host: options.host ?? "127.0.0.1",
    port: options.port,
    databaseUrl: options.databaseUrl,
    publicUrl: options.publicUrl?.replace(/\/+$/, ""),
    offlineAfterMs: options.offlineAfterMs ?? 30_000,
    maxWorkspaceBytes: options.maxWorkspaceBytes ?? 500 * MiB,
    workspaceStoreBytes: options.workspaceStoreBytes ?? 20 * 1024 * MiB,
    userWorkspaceBytes: options.userWorkspaceBytes ?? 2 * 1024 * MiB,
    runLogBytes: options.runLogBytes ?? 100 * MiB,
    userLogBytes: options.userLogBytes ?? 2 * 1024 * MiB,
    logRetentionDays: options.logRetentionDays ?? 30,
    storageSweepMs: options.storageSweepMs ?? 60_000,
    stopGraceMs: options.stopGraceMs ?? 10_000,
    pollMaxWaitMs: options.pollMaxWaitMs ?? 20_000,
    logLevel: options.logLevel ?? "info",
    tickMs: options.tickMs ?? 1000,
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
