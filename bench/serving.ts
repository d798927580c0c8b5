/**
 * Section 6: the inference proxy. One real agent serves a minimal node HTTP job; each request
 * goes once straight to the job's port and once through `/inference/<id>/` (server, the
 * agent's tunnel, the agent, the job), one at a time: the difference is the proxy's cost.
 * Then requests/s through the proxy and direct, many in flight.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { loadavg } from "node:os";
import { join } from "node:path";
import { launch, startCluster } from "./lib/cluster.js";
import { call } from "./lib/http.js";
import { type Quantiles, nowMs, pool, quantiles } from "./lib/stats.js";

export interface ServingResult {
  requests: number;
  directMs: Quantiles;
  proxiedMs: Quantiles;
  /** proxied - direct, per percentile. */
  overheadP50Ms: number;
  overheadP99Ms: number;
  concurrency: number;
  proxiedPerSec: number;
  directPerSec: number;
  /**
   * CPU ms the server and the agent spend per proxied request (from /proc, while the requests
   * run one at a time): unlike latency, hardly moved by other load on the machine.
   */
  serverCpuMsPerRequest?: number;
  agentCpuMsPerRequest?: number;
  /** The machine's 1-minute load average before and after the one-at-a-time requests: other work skews every figure. */
  loadAverage?: { before: number; after: number };
}

/** CPU ms (user + system) process `pid` has used, from /proc (Linux; null elsewhere). */
function cpuMs(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 256 });

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: keepAlive, headers }, (res) => {
      res.resume();
      res.once("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path}: HTTP ${res.statusCode}`))));
    });
    req.once("error", reject);
    req.end();
  });
}

async function timed(count: number, once: () => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = nowMs();
    await once();
    samples.push(nowMs() - start);
  }
  return samples;
}

async function perSecond(seconds: number, width: number, once: () => Promise<void>): Promise<number> {
  const end = nowMs() + seconds * 1000;
  let done = 0;
  await pool(width, width, async () => {
    while (nowMs() < end) {
      await once();
      done++;
    }
  });
  return done / seconds;
}

export async function serving(
  requests: number,
  log: (s: string) => void,
  /** `--cpu-prof DIR`: the server and the agent write V8 CPU profiles there. */
  cpuProfDir?: string,
): Promise<ServingResult> {
  const cluster = await startCluster(1, [], cpuProfDir);
  const dir = join(cluster.root, "serving");
  mkdirSync(dir);
  const portFile = join(dir, "port");
  const server = join(dir, "server.cjs");
  writeFileSync(
    server,
    `require("node:http").createServer((q, s) => { q.resume(); s.end("ok"); }).listen(Number(process.env.FEDML_SERVING_PORT), "127.0.0.1");\n`,
  );
  const yaml = `job_type: serve\njob: |\n  echo $FEDML_SERVING_PORT > ${portFile}\n  exec node ${server}\n`;
  try {
    const runId = await launch(cluster, yaml);
    const runs = await call<{ endpointList: { endpointId: string; runId: string; status: string }[] }>(
      `${cluster.server.url}/api/v1/endpoints`,
      cluster.apiKey,
    );
    const endpointId = runs.endpointList.find((e) => e.runId === runId)?.endpointId;
    if (!endpointId) throw new Error(`run ${runId} has no endpoint`);
    for (let i = 0; ; i++) {
      const e = await call<{ status: string }>(`${cluster.server.url}/api/v1/endpoints/${endpointId}`, cluster.apiKey);
      if (e.status === "READY") break;
      if (i > 600) throw new Error(`endpoint ${endpointId} never turned READY`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const jobPort = Number(readFileSync(portFile, "utf8").trim());
    const serverPort = Number(new URL(cluster.server.url).port);
    const auth = { authorization: `Bearer ${cluster.apiKey}` };
    const direct = () => get(jobPort, "/");
    const proxied = () => get(serverPort, `/inference/${endpointId}/`, auth);
    await timed(200, direct);
    await timed(200, proxied);
    log(`  ${requests} requests one at a time, direct and through the proxy (interleaved in blocks)`);
    const d: number[] = [];
    const p: number[] = [];
    const pids = [cluster.server.child.pid, cluster.agents[0].child.pid];
    let [serverCpu, agentCpu] = [0, 0];
    const loadBefore = loadavg()[0];
    for (let block = 0; block < 10; block++) {
      d.push(...(await timed(requests / 10, direct)));
      const [s0, a0] = pids.map(cpuMs);
      p.push(...(await timed(requests / 10, proxied)));
      const [s1, a1] = pids.map(cpuMs);
      serverCpu += (s1 ?? 0) - (s0 ?? 0);
      agentCpu += (a1 ?? 0) - (a0 ?? 0);
    }
    const loadAfter = loadavg()[0];
    const concurrency = 32;
    log(`  requests/s with ${concurrency} in flight, 5 s each`);
    const proxiedPerSec = await perSecond(5, concurrency, proxied);
    const directPerSec = await perSecond(5, concurrency, direct);
    const directMs = quantiles(d);
    const proxiedMs = quantiles(p);
    return {
      requests,
      directMs,
      proxiedMs,
      overheadP50Ms: proxiedMs.p50 - directMs.p50,
      overheadP99Ms: proxiedMs.p99 - directMs.p99,
      concurrency,
      proxiedPerSec,
      directPerSec,
      serverCpuMsPerRequest: serverCpu / requests,
      agentCpuMsPerRequest: agentCpu / requests,
      loadAverage: { before: loadBefore, after: loadAfter },
    };
  } finally {
    await cluster.stop();
  }
}
