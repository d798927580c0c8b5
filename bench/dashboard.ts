/**
 * Section: the web dashboard. Time to first render, from a warm server, of the runs page of a
 * user with 100,000 runs and of a run page whose run has 1,000,000 log lines, in Debian's
 * Chromium through playwright-core; and the dashboard's JavaScript, gzipped.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Page } from "playwright-core";
import { WEB_DIR } from "../packages/server/src/dashboard/web-routes.js";
import { openSqlite } from "../packages/server/src/store/db.js";
import { appendLogBatch } from "../packages/server/src/store/logs.js";
import { chromiumPath, launchChromium, signIn } from "../test/support/browser.js";
import { createUser, startServer } from "../test/support/processes.js";
import { launch } from "./lib/cluster.js";
import { logLines, registerFake } from "./lib/fake-agent.js";
import { type Quantiles, quantiles } from "./lib/stats.js";

const UNLIMITED_LOG_QUOTA = { runBytes: Number.MAX_SAFE_INTEGER, userBytes: Number.MAX_SAFE_INTEGER };
const LOG_BATCH = 5000;
const SAMPLES = 7;

export interface DashboardResult {
  jsGzipBytes: number;
  jsBytes: number;
  runs: number;
  logLines: number;
  /** null when chromium is not installed. */
  runsPageMs: Quantiles | null;
  runPageMs: Quantiles | null;
  skipped: string | null;
}

/** Every JavaScript file the page loads, gzipped as a server or proxy would send it. */
function jsSize(): { raw: number; gzip: number } {
  const dir = join(WEB_DIR, "assets");
  let raw = 0;
  let gzip = 0;
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".js"))) {
    const bytes = readFileSync(join(dir, name));
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { raw, gzip };
}

/** Loads `path` in a signed-in tab and answers ms from navigation start until `selector` shows. */
async function firstRender(page: Page, url: string, selector: string): Promise<number> {
  await page.goto("about:blank");
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForSelector(selector, { timeout: 30_000 });
  if (process.env.FEDML_BENCH_TRACE) {
    console.log(
      await page.evaluate(
        "JSON.stringify([performance.getEntriesByType('navigation').map(e => [e.name.slice(-20), Math.round(e.responseEnd), Math.round(e.domContentLoadedEventEnd)]), performance.getEntriesByType('resource').map(e => [e.name.slice(-40), Math.round(e.startTime), Math.round(e.responseEnd)])])",
      ),
    );
  }
  return page.evaluate("performance.now()") as Promise<number>;
}

export async function dashboard(runCount: number, lineCount: number, log: (s: string) => void): Promise<DashboardResult> {
  const size = jsSize();
  log(`  JavaScript: ${size.raw} bytes, ${size.gzip} gzipped`);
  const base = { jsGzipBytes: size.gzip, jsBytes: size.raw, runs: runCount, logLines: lineCount };
  if (!chromiumPath()) return { ...base, runsPageMs: null, runPageMs: null, skipped: "chromium not installed" };

  const root = mkdtempSync(join(tmpdir(), "fedml-bench-dashboard-"));
  const home = join(root, "server");
  let server = await startServer(home, { extraArgs: ["--log-level", "warn"] });
  try {
    const apiKey = await createUser(server, "bench");
    const agent = await registerFake(server.url, apiKey, "log-box");
    const runId = await launch({ server, apiKey, agents: [], root, stop: async () => {} }, 'job: "true"\njob_name: big-log\n');
    await server.stop();

    log(`  seeding ${runCount} runs and ${lineCount} log lines (server stopped meanwhile)`);
    const store = openSqlite(join(home, "server", "fedml.db"));
    try {
      const template = await store.db.selectFrom("runs").selectAll().where("id", "=", Number(runId)).executeTakeFirstOrThrow();
      const { id: _id, ...row } = template;
      await store.db.transaction().execute(async (trx) => {
        for (let i = 0; i < runCount - 1; i += 500) {
          const rows = Array.from({ length: Math.min(500, runCount - 1 - i) }, (_, j) => ({
            ...row,
            name: `sweep-${i + j}`,
            status: (i + j) % 10 === 0 ? "FAILED" : "FINISHED",
            created_at: template.created_at - (runCount - i - j) * 1000,
            started_at: template.created_at - (runCount - i - j) * 1000 + 200,
            ended_at: template.created_at - (runCount - i - j) * 1000 + 60_000,
          }));
          await trx.insertInto("runs").values(rows).execute();
        }
      });
      for (let seq = 1; seq <= lineCount; seq += LOG_BATCH) {
        const lines = logLines(seq, Math.min(LOG_BATCH, lineCount - seq + 1));
        await appendLogBatch(store.db, Number(runId), Number(agent.deviceId), lines, UNLIMITED_LOG_QUOTA);
      }
    } finally {
      await store.close();
    }

    server = await startServer(home, { extraArgs: ["--log-level", "warn"] });
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext()).newPage();
      await signIn(page, server.url, apiKey);
      const runsUrl = `${server.url}/runs`;
      const runUrl = `${server.url}/runs/${runId}`;
      const rows = "[data-testid=runs-table] tbody tr:nth-child(50)";
      const lastLine = `[data-testid=log-lines] >> text=step ${lineCount} loss`;
      // Warm: the server's caches and statements, the browser's copy of the hashed assets.
      await firstRender(page, runsUrl, rows);
      await firstRender(page, runUrl, lastLine);
      const runsTimes: number[] = [];
      const runTimes: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        runsTimes.push(await firstRender(page, runsUrl, rows));
        runTimes.push(await firstRender(page, runUrl, lastLine));
      }
      const runsPageMs = quantiles(runsTimes);
      const runPageMs = quantiles(runTimes);
      log(
        `  runs page (${runCount} runs): p50 ${runsPageMs.p50.toFixed(0)} ms; run page (${lineCount} lines): p50 ${runPageMs.p50.toFixed(0)} ms`,
      );
      return { ...base, runsPageMs, runPageMs, skipped: null };
    } finally {
      await browser.close();
    }
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
