/**
 * A device that speaks the agent protocol over HTTP and runs nothing: the load generator for
 * the memory and log sections (the real agent is measured on its own).
 */
import type { DeviceFacts, LogLine } from "@fedml/core";
import { call } from "./http.js";

export function fakeFacts(name: string): DeviceFacts {
  return {
    name,
    hostname: name,
    osType: "Linux",
    osVersion: "bench",
    cpuCount: 8,
    memoryBytes: 64 * 2 ** 30,
    gpus: [],
    agentVersion: "bench",
    address: "127.0.0.1",
    provider: "bench",
    region: "local",
    pricePerGpuHour: 0,
    shared: false,
    simulated: true,
    maxJobs: 4,
    gpuError: null,
  };
}

export interface FakeAgent {
  deviceId: string;
  token: string;
}

export async function registerFake(serverUrl: string, apiKey: string, name: string): Promise<FakeAgent> {
  const facts = fakeFacts(name);
  const { deviceId, deviceToken } = await call<{ deviceId: string; deviceToken: string }>(
    `${serverUrl}/api/v1/agent/register`,
    apiKey,
    "POST",
    { facts },
  );
  await call(`${serverUrl}/api/v1/agent/hello`, deviceToken, "POST", { facts, activeRunIds: [] });
  return { deviceId, token: deviceToken };
}

/** One heartbeat: the assignments long-poll, as the real agent holds it. */
export async function poll(
  serverUrl: string,
  agent: FakeAgent,
  since: number,
  waitMs: number,
  signal?: AbortSignal,
): Promise<number> {
  const res = await fetch(`${serverUrl}/api/v1/agent/assignments?since=${since}&waitMs=${waitMs}`, {
    headers: { authorization: `Bearer ${agent.token}` },
    signal,
  });
  if (!res.ok) throw new Error(`assignments: ${res.status}`);
  const body = (await res.json()) as { version: number };
  return body.version;
}

export async function sendLogs(serverUrl: string, agent: FakeAgent, runId: string, lines: LogLine[]): Promise<number> {
  const { ackedSeq } = await call<{ ackedSeq: number }>(`${serverUrl}/api/v1/agent/runs/${runId}/logs`, agent.token, "POST", {
    lines,
  });
  return ackedSeq;
}

/** Lines seq from..from+count-1, about as long as a training loop's progress line. */
export function logLines(from: number, count: number): LogLine[] {
  const time = Date.now();
  return Array.from({ length: count }, (_, i) => {
    const seq = from + i;
    return {
      seq,
      stream: "stdout",
      time,
      text: `step ${seq} loss ${(1 / (1 + seq / 1e5)).toFixed(6)} lr 3.0e-4 tokens/s 18231.5`,
    };
  });
}
