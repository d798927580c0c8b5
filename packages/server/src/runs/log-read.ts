import { type LogLinesResponse, type RunLogResult, isTerminalRunStatus, planLogPage } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { runTopic } from "../notify.js";
import { devicesById } from "../store/devices.js";
import { readLogRange } from "../store/logs.js";
import { type RunDeviceRow, type RunRow, findRun, listRunDevices } from "../store/runs.js";

const FULL_CHUNK = 5000;

/** The run's parts in rank order: the order every log view concatenates them in. */
async function partsInRankOrder(ctx: ServerContext, runId: number): Promise<RunDeviceRow[]> {
  const parts = await listRunDevices(ctx.db, [runId]);
  return parts.sort((a, b) => a.rank - b.rank || a.node_index - b.node_index || a.device_id - b.device_id);
}

async function readAll(ctx: ServerContext, run: RunRow, parts: RunDeviceRow[]): Promise<string[]> {
  const lines: string[] = [];
  for (const part of parts) {
    for (let from = 1; from <= part.log_count; from += FULL_CHUNK) {
      const rows = await readLogRange(ctx.db, run.id, part.device_id, from, Math.min(part.log_count, from + FULL_CHUNK - 1));
      for (const r of rows) lines.push(r.text);
    }
  }
  return lines;
}

/** One page of a run's log (plus every line with needAllLogs), by key ranges only. */
export async function runLogPage(
  ctx: ServerContext,
  run: RunRow,
  pageNum: number,
  pageSize: number,
  needAllLogs: boolean,
): Promise<RunLogResult> {
  const parts = await partsInRankOrder(ctx, run.id);
  const plan = planLogPage(
    parts.map((p) => ({ deviceId: String(p.device_id), count: p.log_count })),
    pageNum,
    pageSize,
  );
  const pageLines: string[] = [];
  for (const range of plan.ranges) {
    const rows = await readLogRange(ctx.db, run.id, Number(range.deviceId), range.fromSeq, range.toSeq);
    for (const r of rows) pageLines.push(r.text);
  }
  const devices = await devicesById(
    ctx.db,
    parts.map((p) => p.device_id),
  );
  const fullUrl = `${ctx.publicUrl()}/api/v1/runs/${run.id}/logs/full`;
  return {
    runStatus: run.status,
    totalLogLines: plan.totalLines,
    totalLogPages: plan.totalPages,
    logLineList: needAllLogs ? await readAll(ctx, run, parts) : pageLines,
    runLogs: {
      logFullUrl: fullUrl,
      logDevices: parts.map((p) => ({
        id: String(p.device_id),
        name: devices.get(p.device_id)?.name ?? String(p.device_id),
        logUrl: `${fullUrl}?deviceId=${p.device_id}`,
        rank: p.rank,
        lineCount: p.log_count,
      })),
      totalNum: plan.totalLines,
      totalPages: plan.totalPages,
      currentPage: plan.pageNum,
      logLines: pageLines,
    },
  };
}

/** Every line of the run (or of one device), streamed in key-range chunks. */
export async function* fullLogText(ctx: ServerContext, run: RunRow, deviceId: number | null): AsyncGenerator<string> {
  const parts = (await partsInRankOrder(ctx, run.id)).filter((p) => deviceId === null || p.device_id === deviceId);
  for (const part of parts) {
    for (let from = 1; from <= part.log_count; from += FULL_CHUNK) {
      const rows = await readLogRange(ctx.db, run.id, part.device_id, from, Math.min(part.log_count, from + FULL_CHUNK - 1));
      if (rows.length > 0) yield `${rows.map((r) => r.text).join("\n")}\n`;
    }
  }
}

/**
 * Lines of one device after `afterSeq`; with waitMs, held until there is one or the run
 * ends. Without a device: the run's first device in rank order (none while queued).
 */
export async function followLogLines(
  ctx: ServerContext,
  runId: number,
  query: { deviceId?: string; afterSeq?: number; limit?: number; waitMs?: number },
  signal?: AbortSignal,
): Promise<LogLinesResponse> {
  const afterSeq = query.afterSeq ?? 0;
  const limit = query.limit ?? 1000;
  const read = async (): Promise<LogLinesResponse> => {
    const run = await findRun(ctx.db, runId);
    const status = run?.status ?? "UNDETERMINED";
    const parts = await partsInRankOrder(ctx, runId);
    const part = query.deviceId ? parts.find((p) => String(p.device_id) === query.deviceId) : parts[0];
    const ended = isTerminalRunStatus(status);
    if (!part) return { deviceId: query.deviceId ?? null, lines: [], lastSeq: afterSeq, runStatus: status, done: ended };
    const rows = await readLogRange(ctx.db, runId, part.device_id, afterSeq + 1, afterSeq + limit);
    const lastSeq = rows.length > 0 ? rows[rows.length - 1].seq : afterSeq;
    return {
      deviceId: String(part.device_id),
      lines: rows,
      lastSeq,
      runStatus: status,
      done: ended && lastSeq >= part.log_count,
    };
  };
  const waitMs = Math.min(query.waitMs ?? 0, 25_000);
  const answer = await ctx.hub.waitUntil(
    runTopic(runId),
    waitMs,
    async () => {
      const r = await read();
      return r.lines.length > 0 || r.done ? r : undefined;
    },
    signal,
  );
  return answer ?? read();
}
