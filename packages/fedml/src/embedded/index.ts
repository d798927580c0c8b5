/** The embedded default: a local server plus a local agent, both per FEDML_HOME. */
import { localAgentPid, stopLocalAgent, ensureLocalAgent } from "./local-agent.js";
import { ensureLocalServer, findRunningLocalServer, stopLocalServer, type LocalServer } from "./local-server.js";

export { ensureLocalAgent, localAgentHome, localAgentPid, stopLocalAgent } from "./local-agent.js";
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

/** The local server and its agent, both started if needed. */
export async function ensureEmbedded(home: string): Promise<LocalServer & { agentPid: number }> {
  const server = await ensureLocalServer(home);
  const agent = await ensureLocalAgent(home, server.url, server.adminKey);
  return { ...server, agentPid: agent.pid };
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
  const agentStopped = await stopLocalAgent(home);
  const serverStopped = await stopLocalServer(home);
  return { agentStopped, serverStopped };
}
