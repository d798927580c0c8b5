/**
 * Section: logs end to end, from a job's print to a follower's screen through a real agent
 * (its line splitter and shipper), the server (log append, the `/log-lines` long-poll) and
 * the SDK (`api.followRunLogs`, what `fedml launch` and `fedml run logs -f` use).
 * Latency: a job prints a line every few ms carrying its own wall time; the follower notes
 * when each arrives. Rate: a job prints N numbered lines as fast as it can; the follower
 * checks every line arrives once and in order, and the rate is N over the time from the
 * job's first print to the follower's last line.
 */
import { loadavg } from "node:os";
import { followRunLogs } from "../packages/fedml/src/api/logs.js";
import { type Cluster, launch, startCluster } from "./lib/cluster.js";
import { cpuSeconds, cpuSecondsWithHelpers } from "./lib/proc.js";
import { type Quantiles, nowMs, quantiles } from "./lib/stats.js";

/** CPU ms per 100,000 lines of the rate job, by part: far less noisy than wall time on a busy machine. */
export interface LogsCpuSplit {
  server: number;
  agent: number;
  /** The job printing (the agent's children, counted when the agent has waited for it). */
  job: number;
  /** This process: the SDK follower, its parsing and checking. */
  follower: number;
}

export interface LogsE2eResult {
  latencyLines: number;
  /** print -> the follower's callback, ms. */
  latencyMs: Quantiles;
  rateLines: number;
  /** Lines delivered to the follower, checked one by one against their numbers. */
  rateDelivered: number;
  rateLost: number;
  rateLinesPerSec: number;
  rateSec: number;
  /** Absent in results from before it was measured. */
  cpuMsPer100kLines?: LogsCpuSplit;
  loadAverage?: { before: number; after: number };
}

function cpuSplit(cluster: Cluster): LogsCpuSplit {
  const agent = cpuSecondsWithHelpers(cluster.agents[0].child.pid as number);
  const own = process.cpuUsage();
  return {
    server: cpuSeconds(cluster.server.child.pid as number).self,
    agent: agent.self,
    job: agent.children,
    follower: (own.user + own.system) / 1e6,
  };
}

const yaml = (script: string) => `job: |\n  node -e '${script}'\n`;

/** One line every `everyMs` with its wall time (ms, the same clock as nowMs()). */
function latencyJob(lines: number, everyMs: number): string {
  return yaml(
    `let i=0;const t=setInterval(()=>{i++;process.stdout.write("lat "+i+" "+(performance.timeOrigin+performance.now()).toFixed(3)+"\\n");if(i>=${lines})clearInterval(t)},${everyMs})`,
  );
}

/** `lines` numbered lines as fast as stdout takes them; the first carries the wall time. */
function rateJob(lines: number): string {
  return yaml(
    `const n=${lines};let i=0;process.stdout.write("start "+(performance.timeOrigin+performance.now()).toFixed(3)+"\\n");const w=()=>{while(i<n){let s="";const e=Math.min(n,i+5000);while(i<e){i++;s+="line "+i+"\\n"}if(!process.stdout.write(s)){process.stdout.once("drain",w);return}}};w()`,
  );
}

export async function logsEndToEnd(
  latencyLines: number,
  rateLines: number,
  log: (s: string) => void,
  /** `--cpu-prof DIR`: the server and the agent write V8 CPU profiles there. */
  cpuProfDir?: string,
): Promise<LogsE2eResult> {
  const cluster = await startCluster(1, [], cpuProfDir);
  const options = { serverUrl: cluster.server.url, apiKey: cluster.apiKey };
  try {
    log(`  latency: ${latencyLines} lines, one every 5 ms`);
    const latencies: number[] = [];
    const latencyRun = await launch(cluster, latencyJob(latencyLines, 5));
    const latencyStatus = await followRunLogs(
      latencyRun,
      (text) => {
        const m = /^lat (\d+) ([\d.]+)$/.exec(text);
        if (m) latencies.push(nowMs() - Number(m[2]));
      },
      options,
    );
    if (latencyStatus !== "FINISHED" || latencies.length !== latencyLines) {
      throw new Error(`latency job: ${latencyStatus}, ${latencies.length} of ${latencyLines} lines`);
    }

    const lat = quantiles(latencies);
    log(`  print -> follower ms p50 ${lat.p50.toFixed(1)} / p90 ${lat.p90.toFixed(1)} / p99 ${lat.p99.toFixed(1)}`);
    log(`  rate: ${rateLines} lines as fast as the job prints them`);
    let expected = 1;
    let lost = 0;
    let startedAt = 0;
    let lastAt = 0;
    const loadBefore = loadavg()[0];
    const cpuBefore = cpuSplit(cluster);
    const rateRun = await launch(cluster, rateJob(rateLines));
    const rateStatus = await followRunLogs(
      rateRun,
      (text) => {
        if (text.startsWith("line ")) {
          const seq = Number(text.slice(5));
          if (seq !== expected) lost += Math.abs(seq - expected);
          expected = seq + 1;
          lastAt = nowMs();
        } else if (text.startsWith("start ")) startedAt = Number(text.slice(6));
      },
      options,
    );
    const delivered = expected - 1;
    if (rateStatus !== "FINISHED") throw new Error(`rate job: ${rateStatus}`);
    // The job's CPU is counted once the agent has reaped it; FINISHED is reported after that.
    const cpuAfter = cpuSplit(cluster);
    const per100k = (key: keyof LogsCpuSplit) => ((cpuAfter[key] - cpuBefore[key]) * 1000 * 100_000) / rateLines;
    const cpu = { server: per100k("server"), agent: per100k("agent"), job: per100k("job"), follower: per100k("follower") };
    log(
      `  ${delivered} delivered, ${lost + rateLines - delivered} lost, ${(delivered / ((lastAt - startedAt) / 1000)).toFixed(0)} lines/s`,
    );
    log(
      `  CPU ms per 100k lines: server ${cpu.server.toFixed(0)}, agent ${cpu.agent.toFixed(0)}, job ${cpu.job.toFixed(0)}, follower ${cpu.follower.toFixed(0)}`,
    );
    lost += rateLines - delivered;
    const rateSec = (lastAt - startedAt) / 1000;
    return {
      latencyLines,
      latencyMs: quantiles(latencies),
      rateLines,
      rateDelivered: delivered,
      rateLost: lost,
      rateLinesPerSec: delivered / rateSec,
      rateSec,
      cpuMsPer100kLines: cpu,
      loadAverage: { before: loadBefore, after: loadavg()[0] },
    };
  } finally {
    await cluster.stop();
  }
}
