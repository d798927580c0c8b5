/** The embedded default: a local server plus a local agent, both per FEDML_HOME. */
import { join } from "node:path";
import { extraLocalSlots, localAgentHome, localAgentPid, stopLocalAgent, ensureLocalAgent } from "./local-agent.js";
import { serverLogPath } from "./server-info.js";
import { ensureLocalServer, findRunningLocalServer, stopLocalServer, type LocalServer } from "./local-server.js";

export { ensureLocalAgent, extraLocalSlots, localAgentHome, localAgentPid, stopLocalAgent } from "./local-agent.js";
export {
  ensureLocalServer,
  findRunningLocalServer,
  resolveServerBin,
  stopLocalServer,
  type LocalServer,
} from "./local-server.js";
export { readServerInfo, serverLogPath } from "./server-info.js";

/** `fedml server status --json` prints exactly this. */
export interface LocalServerStatus {
  running: boolean;
  url: string | null;
  pid: number | null;
  agentPid: number | null;
}

/** What the embedded default started in the background, for the one notice that says so. */
export interface EmbeddedStarted {
  home: string;
  serverUrl: string;
  serverPid: number;
  serverLog: string;
  /** Null when only the server had to be started. */
  agentPid: number | null;
  agentLog: string;
}

type StartListener = (started: EmbeddedStarted) => void;
let startListener: StartListener | null = null;

/**
 * Called whenever a call starts the embedded server or its agent: the CLI says once what runs in
 * the background, where its logs are and how to stop it. The SDK itself stays silent.
 */
export function onEmbeddedStart(listener: StartListener | null): void {
  startListener = listener;
}

/** The local server and its agent, both started if needed. */
export async function ensureEmbedded(home: string): Promise<LocalServer & { agentPid: number }> {
  const server = await ensureLocalServer(home);
  const agent = await ensureLocalAgent(home, server.url, server.adminKey);
  if (server.started || agent.started) {
    startListener?.({
      home,
      serverUrl: server.url,
      serverPid: server.pid,
      serverLog: serverLogPath(home),
      agentPid: agent.started ? agent.pid : null,
      agentLog: join(localAgentHome(home), "agent.log"),
    });
  }
  return { ...server, agentPid: agent.pid };
}

/**
 * `fedml server start --local-devices N`: the local agent plus N-1 more local devices (agent
 * daemons on this machine, each its own device), e.g. for a federated job's server and edges.
 * Answers the device ids, slot 1 first.
 */
export async function ensureLocalDevices(home: string, count: number): Promise<string[]> {
  const server = await ensureLocalServer(home);
  const ids: string[] = [];
  for (let slot = 1; slot <= Math.max(1, count); slot++) {
    ids.push((await ensureLocalAgent(home, server.url, server.adminKey, slot)).deviceId);
  }
  return ids;
}

export async function localServerStatus(home: string): Promise<LocalServerStatus> {
  const server = await findRunningLocalServer(home);
  return { running: server !== null, url: server?.url ?? null, pid: server?.pid ?? null, agentPid: localAgentPid(home) };
}

/** `fedml server stop --json` prints exactly this. */
export interface StopLocalResult {
  agentStopped: boolean;
  serverStopped: boolean;
}

/** The agent first, so that it does not spend its last seconds retrying a vanished server. */
export async function stopLocal(home: string): Promise<StopLocalResult> {
  for (const slot of extraLocalSlots(home)) await stopLocalAgent(home, slot);
  const agentStopped = await stopLocalAgent(home);
  const serverStopped = await stopLocalServer(home);
  return { agentStopped, serverStopped };
}
