/**
 * Section 4: log ingest into the store and page latency on a run holding many lines.
 * Ingest goes through the server's own store function (`appendLogBatch`) in batches of the
 * agent's size, and, on a smaller sample, through the real HTTP route an agent posts to.
 */
import { join } from "node:path";
import { openSqlite } from "../packages/server/src/store/db.js";
import { appendLogBatch } from "../packages/server/src/store/logs.js";
import { launch } from "./lib/cluster.js";
import { logLines, registerFake, sendLogs } from "./lib/fake-agent.js";
import { call } from "./lib/http.js";
import { type Quantiles, nowMs, quantiles } from "./lib/stats.js";
import { createUser, startServer } from "../test/support/processes.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

const UNLIMITED_LOG_QUOTA = { runBytes: Number.MAX_SAFE_INTEGER, userBytes: Number.MAX_SAFE_INTEGER };

/** The agent's shipper sends at most this many lines per request. */
const AGENT_BATCH = 1000;

export interface LogsResult {
  totalLines: number;
  httpLines: number;
  httpLinesPerSec: number;
  storeLines: number;
  storeLinesPerSec: number;
  pageSize: number;
  pages: number;
  pageMs: Quantiles;
}

export async function logs(totalLines: number, httpLines: number, pages: number, log: (s: string) => void): Promise<LogsResult> {
  const root = mkdtempSync(join(tmpdir(), "fedml-bench-logs-"));
  const home = join(root, "server");
  try {
    let server = await startServer(home, { extraArgs: ["--log-level", "warn"] });
    const apiKey = await createUser(server, "bench");
    const agent = await registerFake(server.url, apiKey, "log-sink");
    const runId = await launch({ server, apiKey, agents: [], root, stop: async () => {} }, 'job: "true"\n');

    log(`  HTTP ingest: ${httpLines} lines in batches of ${AGENT_BATCH}, one request in flight`);
    let t0 = nowMs();
    for (let seq = 1; seq <= httpLines; seq += AGENT_BATCH) {
      await sendLogs(server.url, agent, runId, logLines(seq, Math.min(AGENT_BATCH, httpLines - seq + 1)));
    }
    const httpLinesPerSec = httpLines / ((nowMs() - t0) / 1000);
    await server.stop();

    const storeLines = totalLines - httpLines;
    log(`  store ingest: ${storeLines} more lines through appendLogBatch (the server is stopped meanwhile)`);
    const store = openSqlite(join(home, "server", "fedml.db"));
    t0 = nowMs();
    try {
      for (let seq = httpLines + 1; seq <= totalLines; seq += AGENT_BATCH) {
        const lines = logLines(seq, Math.min(AGENT_BATCH, totalLines - seq + 1));
        // No quota: the figure is the store path's own speed.
        await appendLogBatch(store.db, Number(runId), Number(agent.deviceId), lines, UNLIMITED_LOG_QUOTA);
      }
    } finally {
      await store.close();
    }
    const storeLinesPerSec = storeLines / ((nowMs() - t0) / 1000);

    server = await startServer(home, { extraArgs: ["--log-level", "warn"] });
    const pageSize = 100;
    const lastPage = Math.ceil(totalLines / pageSize);
    log(`  runLogs pages: ${pages} pages of ${pageSize} over ${totalLines} lines`);
    const times: number[] = [];
    try {
      const url = (page: number) => `${server.url}/api/v1/runs/${runId}/logs?pageNum=${page}&pageSize=${pageSize}`;
      await call(url(1), apiKey); // warm-up
      for (let i = 0; i < pages; i++) {
        // Spread over the whole run: first, last and evenly between.
        const page = i === 0 ? 1 : i === 1 ? lastPage : 1 + Math.floor(((i * 7919) % pages) * (lastPage / pages));
        const start = nowMs();
        const body = await call<{ logLineList: string[]; totalLogLines: number }>(url(page), apiKey);
        times.push(nowMs() - start);
        if (body.totalLogLines !== totalLines || body.logLineList.length === 0) {
          throw new Error(`page ${page}: ${body.logLineList.length} lines of ${body.totalLogLines}, expected ${totalLines}`);
        }
      }
    } finally {
      await server.stop();
    }
    return { totalLines, httpLines, httpLinesPerSec, storeLines, storeLinesPerSec, pageSize, pages, pageMs: quantiles(times) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
