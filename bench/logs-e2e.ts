/**
 * Section: logs end to end, from a job's print to a follower's screen through a real agent
 * (its line splitter and shipper), the server (log append, the `/log-lines` long-poll) and
 * the SDK (`api.followRunLogs`, what `fedml launch` and `fedml run logs -f` use).
 * Latency: a job prints a line every few ms carrying its own wall time; the follower notes
 * when each arrives. Rate: a job prints N numbered lines as fast as it can; the follower
 * checks every line arrives once and in order, and the rate is N over the time from the
 * job's first print to the follower's last line.
 */
import { followRunLogs } from "../packages/fedml/src/api/logs.js";
import { launch, startCluster } from "./lib/cluster.js";
import { type Quantiles, nowMs, quantiles } from "./lib/stats.js";

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

export async function logsEndToEnd(latencyLines: number, rateLines: number, log: (s: string) => void): Promise<LogsE2eResult> {
  const cluster = await startCluster(1);
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

    log(`  rate: ${rateLines} lines as fast as the job prints them`);
    let expected = 1;
    let lost = 0;
    let startedAt = 0;
    let lastAt = 0;
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
    };
  } finally {
    await cluster.stop();
  }
}
