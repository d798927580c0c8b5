/** Section 5: server RSS under 1,000 heartbeating agents; one real idle agent's RSS. */
import { spawn } from "node:child_process";
import { setMaxListeners } from "node:events";
import { startCluster } from "./lib/cluster.js";
import { type FakeAgent, poll, registerFake } from "./lib/fake-agent.js";
import { rssMb, sleep } from "./lib/proc.js";
import { pool } from "./lib/stats.js";

export interface MemoryResult {
  agents: number;
  heartbeatSec: number;
  /** Held long-polls the simulated agents completed while measured. */
  polls: number;
  serverIdleRssMb: number;
  serverRssMb: number;
  serverPeakRssMb: number;
  agentIdleRssMb: number;
  /** A bare `node` holding a timer, measured alongside: the floor no agent can go below. */
  nodeFloorRssMb: number;
}

/** The real agent waits a third of the server's offline window (30 s) per poll. */
const POLL_WAIT_MS = 10_000;

export async function memory(agentCount: number, heartbeatSec: number, log: (s: string) => void): Promise<MemoryResult> {
  const floor = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  const cluster = await startCluster(1);
  const serverPid = cluster.server.child.pid as number;
  const agentPid = cluster.agents[0].child.pid as number;
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  let polls = 0;
  try {
    await sleep(2000);
    const serverIdleRssMb = rssMb(serverPid);
    log(`  registering ${agentCount} simulated agents`);
    const fakes: FakeAgent[] = [];
    await pool(agentCount, 16, async (i) => {
      fakes.push(await registerFake(cluster.server.url, cluster.apiKey, `sim-${i}`));
    });
    log(`  ${agentCount} agents heartbeating (long-polls of ${POLL_WAIT_MS / 1000} s) for ${heartbeatSec} s`);
    const loops = fakes.map(async (agent) => {
      // One signal per simulated agent: a shared one would collect a listener per request.
      const own = new AbortController();
      stop.signal.addEventListener("abort", () => own.abort(), { once: true });
      let since = 0;
      while (!stop.signal.aborted) {
        try {
          since = await poll(cluster.server.url, agent, since, POLL_WAIT_MS, own.signal);
          polls++;
        } catch (error) {
          if (!stop.signal.aborted) throw error;
        }
      }
    });
    let peak = 0;
    const deadline = Date.now() + heartbeatSec * 1000;
    while (Date.now() < deadline) {
      await sleep(1000);
      peak = Math.max(peak, rssMb(serverPid));
    }
    const serverRssMb = rssMb(serverPid);
    const agentIdleRssMb = rssMb(agentPid);
    const nodeFloorRssMb = rssMb(floor.pid as number);
    stop.abort();
    await Promise.all(loops);
    return {
      agents: agentCount,
      heartbeatSec,
      polls,
      serverIdleRssMb,
      serverRssMb,
      serverPeakRssMb: Math.max(peak, serverRssMb),
      agentIdleRssMb,
      nodeFloorRssMb,
    };
  } finally {
    floor.kill();
    stop.abort();
    await cluster.stop();
  }
}
