/** Starting the daemon in the background and stopping it, for `fedml device bind/unbind`. */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FedmlError, ResultCode } from "@fedml/core/contract";
import { sleep } from "./backoff.js";
import { isPidAlive, readPid, releasePidFile } from "./daemon/pid-file.js";

const START_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

/** dist/bin.js next to this module (src/ under tsx has no bin.js: use the built package). */
export function agentBinPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, "bin.js");
  return existsSync(beside) ? beside : join(here, "..", "dist", "bin.js");
}

function lastLines(file: string, count: number): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-count).join(" | ");
  } catch {
    return "";
  }
}

/** Starts `node dist/bin.js run --home <home>` detached; resolves once it holds agent.pid. */
export async function spawnAgentDaemon(home: string, options: { logFile?: string } = {}): Promise<{ pid: number }> {
  const logFile = options.logFile ?? join(home, "agent.log");
  // Said here, not read back from the log: a running agent may write its own line after the
  // refused one's, and the caller would see that instead.
  const running = readPid(home);
  if (running !== null && isPidAlive(running)) {
    throw new FedmlError(ResultCode.ERROR, `agent already running (pid ${running})`);
  }
  mkdirSync(home, { recursive: true });
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, "a");
  let exit: { code: number | null; signal: string | null } | null = null;
  let pid: number | undefined;
  try {
    const child = spawn(process.execPath, [agentBinPath(), "run", "--home", home], {
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    child.once("exit", (code, signal) => {
      exit = { code, signal };
    });
    child.once("error", () => {
      exit = { code: null, signal: null };
    });
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (pid !== undefined && readPid(home) === pid) return { pid };
    if (exit !== null || pid === undefined) {
      const tail = lastLines(logFile, 1);
      throw new FedmlError(
        ResultCode.MACHINE_STARTUP_FAILED,
        `the agent exited at start${tail ? `: ${tail}` : ""} (see ${logFile})`,
      );
    }
    await sleep(POLL_MS);
  }
  throw new FedmlError(
    ResultCode.MACHINE_STARTUP_FAILED,
    `the agent (pid ${pid}) did not start within ${START_TIMEOUT_MS / 1000} s (see ${logFile})`,
  );
}

/** SIGTERM to the agent of this home and wait for it to exit; SIGKILL after timeoutMs. */
export async function stopAgentDaemon(home: string, timeoutMs = 10_000): Promise<{ stopped: boolean }> {
  const pid = readPid(home);
  if (!pid || !isPidAlive(pid)) {
    if (pid) releasePidFile(home, pid);
    return { stopped: false };
  }
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while (isPidAlive(pid) && Date.now() < deadline) await sleep(POLL_MS);
  if (isPidAlive(pid)) {
    process.kill(pid, "SIGKILL");
    while (isPidAlive(pid)) await sleep(POLL_MS);
  }
  releasePidFile(home, pid);
  return { stopped: true };
}
