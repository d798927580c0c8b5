/**
 * The embedded default's compute: an agent daemon for this machine, bound to the local
 * server with the admin key, its state under `<home>/local-agent`.
 */
import { existsSync, readdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { FedmlError, Paths, ResultCode } from "@fedml/core";
import { loadAgent } from "../agent-link.js";
import { request } from "../http.js";
import type { DeviceListResponse } from "@fedml/core";
import { isPidAlive, pollUntil, readPidFile } from "./processes.js";
import { withStartLock } from "./start-lock.js";

const ONLINE_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

/** Slot 1 is the local agent; slots 2.. are the extra local devices of `fedml server start --local-devices N`. */
export function localAgentHome(home: string, slot = 1): string {
  return join(home, slot === 1 ? "local-agent" : `local-agent-${slot}`);
}

export function localAgentPid(home: string): number | null {
  const pid = readPidFile(join(localAgentHome(home), "agent.pid"));
  return isPidAlive(pid) ? pid : null;
}

/**
 * Binds (once per server) and starts the local agent unless it runs; waits until the server sees
 * it online. Shared, because on the embedded default this machine serves every local user.
 */
export async function ensureLocalAgent(
  home: string,
  serverUrl: string,
  adminKey: string,
  slot = 1,
): Promise<{ pid: number; deviceId: string; started?: boolean }> {
  const agentHome = localAgentHome(home, slot);
  const pidOf = () => {
    const pid = readPidFile(join(agentHome, "agent.pid"));
    return isPidAlive(pid) ? pid : null;
  };
  const { readAgentConfig, registerDevice, spawnAgentDaemon } = await loadAgent();
  const running = pidOf();
  if (running) return { pid: running, deviceId: boundDeviceId(readAgentConfig, agentHome, serverUrl) ?? "" };
  return withStartLock(agentHome, async () => {
    const startedMeanwhile = pidOf();
    if (startedMeanwhile) return { pid: startedMeanwhile, deviceId: boundDeviceId(readAgentConfig, agentHome, serverUrl) ?? "" };
    let deviceId = boundDeviceId(readAgentConfig, agentHome, serverUrl);
    if (!deviceId) {
      ({ deviceId } = await registerDevice({
        home: agentHome,
        serverUrl,
        apiKey: adminKey,
        name: slot === 1 ? `local-${hostname()}` : `local-${hostname()}-${slot}`,
        shared: true,
        // The embedded default serves its owner's own launches on their own machine: jobs run as
        // the owner (they need the owner's files), still with a built environment and a cgroup.
        jobUser: "agent",
        allowSharedWithoutIsolation: true,
        // Extra local devices sit on this very machine: loopback always reaches their jobs.
        ...(slot === 1 ? {} : { address: "127.0.0.1" }),
      }));
    }
    const { pid } = await spawnAgentDaemon(agentHome, { logFile: join(agentHome, "agent.log") });
    const online = await pollUntil(() => isOnline(serverUrl, adminKey, String(deviceId)), ONLINE_TIMEOUT_MS, 200);
    if (!online) {
      throw new FedmlError(
        ResultCode.MACHINE_STARTUP_FAILED,
        `the local agent (pid ${pid}) did not come online within ${ONLINE_TIMEOUT_MS / 1000} s; see ${join(agentHome, "agent.log")}`,
      );
    }
    return { pid, deviceId: String(deviceId), started: true };
  });
}

/** The device id of an existing binding to this very server, else null (a binding elsewhere is replaced). */
function boundDeviceId(readAgentConfig: (home: string) => unknown, agentHome: string, serverUrl: string): string | null {
  let config: unknown;
  try {
    config = readAgentConfig(agentHome);
  } catch {
    return null;
  }
  const record = (config ?? {}) as { serverUrl?: unknown; deviceId?: unknown };
  if (typeof record.serverUrl !== "string" || record.serverUrl.replace(/\/+$/, "") !== serverUrl) return null;
  return record.deviceId === undefined || record.deviceId === null ? null : String(record.deviceId);
}

async function isOnline(serverUrl: string, apiKey: string, deviceId: string): Promise<boolean> {
  try {
    const { deviceList } = await request<DeviceListResponse>("GET", Paths.devices, { serverUrl, apiKey });
    return deviceList.some((device) => String(device.deviceId) === deviceId && device.status !== "OFFLINE");
  } catch {
    return false;
  }
}

/** Answers whether an agent was running. */
export async function stopLocalAgent(home: string, slot = 1): Promise<boolean> {
  const agentHome = localAgentHome(home, slot);
  if (!isPidAlive(readPidFile(join(agentHome, "agent.pid")))) return false;
  const { stopAgentDaemon } = await loadAgent();
  await stopAgentDaemon(agentHome, STOP_TIMEOUT_MS);
  return true;
}

/** Slots (2..) of the extra local devices that have a home under `home`. */
export function extraLocalSlots(home: string): number[] {
  if (!existsSync(home)) return [];
  return readdirSync(home)
    .map((name) => /^local-agent-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .filter((slot) => slot >= 2)
    .sort((a, b) => a - b);
}
