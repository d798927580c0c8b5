/**
 * The embedded default: with no server configured, the client runs a control plane of its
 * own under `<home>/server`, detached so that it outlives the command that started it.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { FedmlError, ResultCode } from "@fedml/core";
import { isPidAlive, pollUntil, terminate } from "./processes.js";
import { isHealthy, readAdminKey, readServerInfo, serverDir, serverLogPath } from "./server-info.js";
import { withStartLock } from "./start-lock.js";

export interface LocalServer {
  url: string;
  pid: number;
  adminKey: string;
  /** True when this call started it (it was not running). */
  started?: boolean;
}

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 10_000;

/** The local server when it is up and answering, else null. */
export async function findRunningLocalServer(home: string): Promise<{ url: string; pid: number } | null> {
  const info = readServerInfo(home);
  if (!info || !isPidAlive(info.pid)) return null;
  return (await isHealthy(info.url)) ? { url: info.url, pid: info.pid } : null;
}

export function resolveServerBin(): string {
  try {
    return createRequire(import.meta.url).resolve("@fedml/server/bin");
  } catch {
    throw new FedmlError(
      ResultCode.ERROR,
      "the embedded server needs @fedml/server (npm install @fedml/server), or use fedml login KEY --server URL",
    );
  }
}

/** Starts the local server unless it already runs; answers its URL, pid and admin key. */
export async function ensureLocalServer(home: string): Promise<LocalServer> {
  const running = await findRunningLocalServer(home);
  if (running) return withAdminKey(home, running);
  return withStartLock(serverDir(home), async () => {
    // Another command may have started it while we waited for the lock.
    const startedMeanwhile = await findRunningLocalServer(home);
    if (startedMeanwhile) return withAdminKey(home, startedMeanwhile);
    return { ...withAdminKey(home, await spawnLocalServer(home)), started: true };
  });
}

async function spawnLocalServer(home: string): Promise<{ url: string; pid: number }> {
  const bin = resolveServerBin();
  mkdirSync(serverDir(home), { recursive: true, mode: 0o700 });
  const logPath = serverLogPath(home);
  const logFd = openSync(logPath, "a");
  // `--port auto`: the port this home used last, else any free one: each FEDML_HOME its own server.
  const child = spawn(process.execPath, [bin, "--home", home, "--host", "127.0.0.1", "--port", "auto"], {
    detached: true,
    stdio: ["ignore", logFd, logFd],
  });
  closeSync(logFd);
  let exitCode: number | null = null;
  child.on("exit", (code, signal) => (exitCode = code ?? (signal ? 128 : 1)));
  child.unref();

  const started = await pollUntil(async () => {
    if (exitCode !== null) return undefined;
    const info = readServerInfo(home);
    if (!info || info.pid !== child.pid || !isPidAlive(info.pid)) return undefined;
    return (await isHealthy(info.url)) ? { url: info.url, pid: info.pid } : undefined;
  }, START_TIMEOUT_MS);
  if (started) return started;
  if (exitCode === null && child.pid) await terminate(child.pid, 2_000);
  const why = exitCode !== null ? `it exited with code ${exitCode}` : `it did not answer within ${START_TIMEOUT_MS / 1000} s`;
  const lastLine = lastLogLine(logPath);
  throw new FedmlError(
    ResultCode.ERROR,
    `the embedded server did not start: ${why}${lastLine ? ` (${lastLine})` : ""}; see ${logPath}`,
  );
}

function withAdminKey(home: string, server: { url: string; pid: number }): LocalServer {
  const adminKey = readAdminKey(home);
  if (!adminKey) {
    throw new FedmlError(ResultCode.ERROR, `the embedded server runs but wrote no admin key to ${serverDir(home)}/admin-key`);
  }
  return { ...server, adminKey };
}

function lastLogLine(path: string): string | null {
  try {
    const lines = readFileSync(path, "utf8").trim().split("\n");
    const last = lines[lines.length - 1]?.trim();
    return last ? last.slice(0, 300) : null;
  } catch {
    return null;
  }
}

/** SIGTERM the local server, SIGKILL after 10 s; answers whether one was running. */
export async function stopLocalServer(home: string): Promise<boolean> {
  const info = readServerInfo(home);
  if (!info || !isPidAlive(info.pid)) return false;
  await terminate(info.pid, STOP_GRACE_MS);
  return true;
}
