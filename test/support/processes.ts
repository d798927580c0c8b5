import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { readServerRecord } from "../../packages/server/src/server-record.js";
import { databaseUrlFor } from "../../packages/server/test/support/database.js";
import { agentBin, cliBin, serverBin } from "./paths.js";
import type { Caller } from "./runs.js";
import { isAlive, waitFor } from "./wait.js";

const execFileAsync = promisify(execFile);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts a daemon with its stdout and stderr on `logFile` itself, as fedml-agent's daemon mode
 * and the embedded server run: nothing of its output passes through this process.
 */
function spawnLogged(args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, "a");
  try {
    return spawn(process.execPath, args, { stdio: ["ignore", fd, fd] });
  } finally {
    closeSync(fd);
  }
}

export interface ServerProcess {
  url: string;
  port: number;
  home: string;
  adminKey: string;
  child: ChildProcess;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait: a crash. */
  crash(): Promise<void>;
}

/**
 * A real control-plane process on loopback, data under `home` (or, when the tests target
 * PostgreSQL, in the database made for `home`, passed with --database-url).
 */
export async function startServer(
  home: string,
  opts: { port?: number; extraArgs?: string[]; nodeArgs?: string[] } = {},
): Promise<ServerProcess> {
  // A free port found here may be taken by another test file's process before the server
  // binds it: then the server exits on EADDRINUSE and another free port is tried.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOn(home, opts.port ?? (await freePort()), opts);
    } catch (err) {
      if (opts.port !== undefined || !(err instanceof PortTaken) || attempt >= 3) throw err;
    }
  }
}

class PortTaken extends Error {}

async function startServerOn(
  home: string,
  port: number,
  opts: { extraArgs?: string[]; nodeArgs?: string[] },
): Promise<ServerProcess> {
  mkdirSync(home, { recursive: true });
  const extraArgs = [...(opts.extraArgs ?? [])];
  const databaseUrl = extraArgs.includes("--database-url") ? undefined : await databaseUrlFor(home);
  if (databaseUrl) extraArgs.push("--database-url", databaseUrl);
  const logFile = join(home, `server-${Date.now()}.log`);
  const nodeArgs = opts.nodeArgs ?? [];
  const child = spawnLogged([...nodeArgs, serverBin, "--home", home, "--port", String(port), ...extraArgs], logFile);
  const url = `http://127.0.0.1:${port}`;
  const outcome = await waitFor(
    `server on ${url}`,
    async () => {
      if (child.exitCode !== null) return "exited";
      // The server records its pid once it listens: an answer on the port before that may be
      // another process's.
      if (readServerRecord(home)?.pid !== child.pid) return false;
      return (await fetch(`${url}/api/v1/health`)).ok && "up";
    },
    // Generous: on a loaded 2-core machine a cold server start alone has taken over 20 s.
    60_000,
  );
  if (outcome === "exited") {
    if (readFileSync(logFile, "utf8").includes("EADDRINUSE")) throw new PortTaken(`port ${port} taken`);
    throw new Error(`server exited with ${child.exitCode}`);
  }
  // Only the first server on a database writes the admin key (a replica joining finds none).
  const keyFile = join(home, "server", "admin-key");
  const adminKey = existsSync(keyFile) ? readFileSync(keyFile, "utf8").trim() : "";
  return {
    url,
    port,
    home,
    adminKey,
    child,
    stop: () => stopChild(child),
    crash: () => stopChild(child, "SIGKILL"),
  };
}

export async function createUser(server: { url: string; adminKey: string }, name: string): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/users`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (!res.ok) throw new Error(`create user ${name}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { apiKey: string };
  return body.apiKey;
}

export interface AgentProcess {
  home: string;
  deviceId: string;
  child: ChildProcess;
  stop(): Promise<void>;
  crash(): Promise<void>;
  restart(): Promise<AgentProcess>;
}

/** Binds a device with the agent's own bin, then runs its daemon as a child process. */
export async function startAgent(
  serverUrl: string,
  apiKey: string,
  home: string,
  bindArgs: string[] = [],
  /** Flags for node itself (a benchmark's --cpu-prof). */
  nodeArgs: string[] = [],
): Promise<AgentProcess> {
  if (!existsSync(join(home, "agent.json"))) {
    await execFileAsync(process.execPath, [
      agentBin,
      "bind",
      "--home",
      home,
      "--server",
      serverUrl,
      "--api-key",
      apiKey,
      // These tests share files with their jobs: jobs run as the agent's user unless a test asks otherwise.
      ...(bindArgs.includes("--job-user") ? [] : ["--job-user", "agent", "--allow-shared-without-isolation"]),
      ...bindArgs,
    ]);
  }
  const config = JSON.parse(readFileSync(join(home, "agent.json"), "utf8")) as { deviceId: string };
  mkdirSync(home, { recursive: true });
  const child = spawnLogged([...nodeArgs, agentBin, "run", "--home", home], join(home, `agent-${Date.now()}.log`));
  const agent: AgentProcess = {
    home,
    deviceId: String(config.deviceId),
    child,
    stop: () => stopChild(child),
    crash: () => stopChild(child, "SIGKILL"),
    restart: async () => {
      await stopChild(child, "SIGKILL");
      return startAgent(serverUrl, apiKey, home, bindArgs, nodeArgs);
    },
  };
  await waitFor(`agent ${config.deviceId} online`, async () => {
    if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}`);
    // With several replicas' URLs, any one of them shows the device.
    const res = await fetch(`${serverUrl.split(",")[0]}/api/v1/devices`, { headers: { authorization: `Bearer ${apiKey}` } });
    const body = (await res.json()) as { deviceList: { deviceId: string; status: string }[] };
    return body.deviceList.some((d) => d.deviceId === String(config.deviceId) && d.status !== "OFFLINE");
  });
  return agent;
}

/**
 * Waits until the agent process has said hello to a server (its log says so): startAgent
 * returns once binding shows the device online, while the agent itself may still be starting.
 */
export async function waitForHello(agent: AgentProcess, timeoutMs = 60_000): Promise<void> {
  const logs = () => readdirSync(agent.home).filter((f) => f.startsWith("agent-") && f.endsWith(".log"));
  await waitFor(
    `agent ${agent.deviceId} to say hello`,
    () => {
      if (agent.child.exitCode !== null) throw new Error(`agent exited with ${agent.child.exitCode}`);
      return logs().some((f) => readFileSync(join(agent.home, f), "utf8").includes("hello accepted"));
    },
    timeoutMs,
  );
}

/** A server, its users (as SDK callers) and one agent bound by the first user. */
export interface ServerWithAgent {
  server: ServerProcess;
  agent: AgentProcess;
  callers: Caller[];
}

/**
 * What most end-to-end files start with: the SDK's home under `dir`, a server, the named
 * users, and one agent of the first user's. A server left by a failed agent start is stopped.
 */
export async function startServerWithAgent(
  dir: string,
  opts: { users: string[]; agentHome?: string; agentArgs?: string[]; serverArgs?: string[] },
): Promise<ServerWithAgent> {
  process.env.FEDML_HOME = join(dir, "client-home");
  const server = await startServer(join(dir, "server-home"), { extraArgs: opts.serverArgs });
  try {
    const callers: Caller[] = [];
    for (const name of opts.users) callers.push({ serverUrl: server.url, apiKey: await createUser(server, name) });
    const agent = await startAgent(server.url, callers[0].apiKey, join(dir, opts.agentHome ?? "agent"), opts.agentArgs);
    return { server, agent, callers };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `fedml` CLI with its own FEDML_HOME. */
export async function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliBin, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

export { isAlive };
