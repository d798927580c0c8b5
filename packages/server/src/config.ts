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
  maxWorkspaceBytes?: number;
  stopGraceMs?: number;
  pollMaxWaitMs?: number;
  logLevel?: string;
  /** Period of the offline sweep and queue tick. */
  tickMs?: number;
  /** For tests only: faults injected into the store and the scheduler. */
  testHooks?: TestHooks;
}

/** Test-only hooks; a server started without them pays nothing for their existence. */
export interface TestHooks {
  /** Called before every insert, update and delete; throwing fails that write. */
  beforeWrite?: (write: { kind: "insert" | "update" | "delete"; table: string }) => void;
  /** Awaited at the start of every queue pass: throw or hang to break the scheduler. */
  beforeQueuePass?: () => Promise<void>;
}

export type ResolvedOptions = Required<Omit<ServerOptions, "port" | "databaseUrl" | "publicUrl" | "testHooks">> &
  Pick<ServerOptions, "port" | "databaseUrl" | "publicUrl" | "testHooks">;

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
    stopGraceMs: options.stopGraceMs ?? 10_000,
    pollMaxWaitMs: options.pollMaxWaitMs ?? 20_000,
    logLevel: options.logLevel ?? "info",
    tickMs: options.tickMs ?? 1000,
    testHooks: options.testHooks,
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
