/**
 * One process of the fleet section's simulated agents: many devices, each speaking the agent
 * protocol (register, hello, the assignments long-poll that is also the heartbeat, status
 * reports). Register and hello go through the agent's own client; the poll and the reports,
 * the steady load, through a lean HTTP/1.1 connection per device (`lean-http.ts`: the same
 * routes and JSON at a fraction of the client's CPU, so the load generator does not starve
 * the server it measures). A device runs nothing: a new assignment is reported RUNNING at
 * once and stays in flight until the process ends.
 *
 * Each device holds its poll from its hello on. Parent -> worker (IPC): { reset: true }
 * starts the heartbeat samples afresh; { report: true } asks for the samples so far;
 * { stop: true } ends the polls.
 * Worker -> parent: { registered }, { seen: [[runId, atMs], ...] } batched, { samples }.
 */
import { AgentClient } from "../../packages/agent/src/client.js";
import { LoopDelay } from "../../packages/server/src/loop-delay.js";
import { type AssignmentsResponse, Paths } from "../../packages/core/src/protocol.js";
import { fakeFacts } from "./fake-agent.js";
import { call } from "./http.js";
import { type LeanAnswer, LeanConnection } from "./lean-http.js";
import { nowMs, pool } from "./stats.js";

interface WorkerArgs {
  serverUrl: string;
  apiKey: string;
  from: number;
  count: number;
  waitMs: number;
  maxJobs: number;
}

const args = JSON.parse(process.argv[2] ?? "{}") as WorkerArgs;
const send = (message: unknown) => process.send?.(message);
const stop = new AbortController();

interface Device {
  http: LeanConnection;
  since: number;
  known: Set<string>;
}

/** Held polls that ended by their wait: how much longer than their hold they took (server work + transport). */
let heartbeatOverheadMs: number[] = [];
/** Status reports (RUNNING) round trips. */
const reportMs: number[] = [];
let polls = 0;
/** This process's own event-loop delay: the part of a heartbeat's time spent waiting here, not in the server. */
const loopDelay = new LoopDelay(10);
let seen: [string, number][] = [];

function flushSeen(): void {
  if (seen.length === 0) return;
  send({ seen });
  seen = [];
}
setInterval(flushSeen, 200).unref();

async function register(i: number): Promise<Device> {
  const facts = { ...fakeFacts(`fleet-${i}`), maxJobs: args.maxJobs };
  const { deviceToken } = await call<{ deviceToken: string }>(`${args.serverUrl}/api/v1/agent/register`, args.apiKey, "POST", {
    facts,
  });
  const client = new AgentClient({ serverUrl: args.serverUrl, deviceToken, signal: stop.signal });
  await client.hello({ facts, activeRunIds: [] });
  const http = new LeanConnection(args.serverUrl, deviceToken);
  connections.add(http);
  return { http, since: 0, known: new Set() };
}

const connections = new Set<LeanConnection>();

/** Every agent call may be repeated: one closed keep-alive connection (the server's idle timeout) is tried again. */
async function ok(device: Device, method: string, path: string, body?: unknown): Promise<LeanAnswer> {
  const answer = await device.http.request(method, path, body).catch((error: Error) => {
    if (stop.signal.aborted) throw error;
    return device.http.request(method, path, body);
  });
  if (answer.status !== 200) throw new Error(`${method} ${path}: ${answer.status} ${answer.body.slice(0, 200)}`);
  return answer;
}

async function heartbeat(device: Device): Promise<void> {
  while (!stop.signal.aborted) {
    const started = nowMs();
    let answer: AssignmentsResponse;
    /** The server holds a poll up to a sixteenth less than asked, at random, and says how long (Server-Timing). */
    let holdMs: number;
    try {
      const reply = await ok(device, "GET", `${Paths.agentAssignments}?since=${device.since}&waitMs=${args.waitMs}`);
      answer = JSON.parse(reply.body) as AssignmentsResponse;
      holdMs = reply.holdMs ?? args.waitMs;
    } catch (error) {
      if (stop.signal.aborted) return;
      throw error;
    }
    const at = nowMs();
    polls++;
    if (answer.version === device.since) heartbeatOverheadMs.push(at - started - holdMs);
    device.since = answer.version;
    for (const a of answer.assignments) {
      if (device.known.has(a.runId)) continue;
      device.known.add(a.runId);
      seen.push([a.runId, at]);
      const t0 = nowMs();
      await ok(device, "POST", Paths.agentRunStatus(a.runId), { status: "RUNNING" });
      reportMs.push(nowMs() - t0);
    }
  }
}

async function main(): Promise<void> {
  const loops: Promise<void>[] = [];
  let registered = 0;
  // Each device polls from its hello on, as the real agent does: held back until the whole
  // fleet registered, the first ones would be silent past the offline window meanwhile.
  await pool(args.count, 32, async (k) => {
    const device = await register(args.from + k);
    registered++;
    loops.push(heartbeat(device));
  });
  send({ registered });
  process.on("message", (message: { report?: boolean; reset?: boolean; stop?: boolean }) => {
    if (message.reset) {
      // Status reports are kept: they come with the launches, before the heartbeats' window.
      heartbeatOverheadMs = [];
      polls = 0;
      loopDelay.reset();
    }
    if (message.report) {
      flushSeen();
      const loopDelayMs = { mean: loopDelay.meanMs, p99: loopDelay.percentileMs(99) };
      send({ samples: { heartbeatOverheadMs, reportMs, polls, loopDelayMs } });
    }
    if (message.stop) {
      stop.abort();
      for (const c of connections) c.close();
      void Promise.allSettled(loops).then(() => process.exit(0));
    }
  });
}

main().catch((error: Error) => {
  process.stderr.write(`fleet worker: ${error.message}\n`);
  process.exit(1);
});
