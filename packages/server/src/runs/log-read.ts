import { Readable } from "node:stream";
import { type LogLinesResponse, type LogRange, type LogTextResponse, isTerminalRunStatus, planLogPage } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { runTopic } from "../notify.js";
import { devicesById } from "../store/devices.js";
import { sliceChunk } from "../store/log-chunks.js";
import { readChunks, readLogRange } from "../store/logs.js";
import { type RunDeviceRow, type RunRow, findRun, listRunDevices } from "../store/runs.js";

/**
 * Lines per read: with lines cut at 64 KiB this bounds what one read holds, whatever the
 * log's size; the answer is streamed out chunk by chunk as the client takes it.
 */
const READ_CHUNK = 500;
/** A follower gets at most this many lines per answer (and goes on from lastSeq)... */
const FOLLOW_MAX_LINES = 10_000;
/** ... and stops adding lines past this much text (lines are up to 64 KiB each). */
const FOLLOW_MAX_CHARS = 8 * 1024 * 1024;
const FOLLOW_READ_CHUNK = 2000;

/** The run's parts in rank order: the order every log view concatenates them in. */
async function partsInRankOrder(ctx: ServerContext, runId: number): Promise<RunDeviceRow[]> {
  const parts = await listRunDevices(ctx.db, [runId]);
  return parts.sort((a, b) => a.rank - b.rank || a.node_index - b.node_index || a.device_id - b.device_id);
}

async function* linesOf(ctx: ServerContext, runId: number, ranges: readonly LogRange[]): AsyncGenerator<string[]> {
  for (const range of ranges) {
    for (let from = range.fromSeq; from <= range.toSeq; from += READ_CHUNK) {
      const rows = await readLogRange(ctx.db, runId, Number(range.deviceId), from, Math.min(range.toSeq, from + READ_CHUNK - 1));
      if (rows.length > 0) yield rows.map((r) => r.text);
    }
  }
}

/** A JSON array of the lines, written piece by piece. */
async function* jsonArrayOf(lines: AsyncGenerator<string[]>): AsyncGenerator<string> {
  yield "[";
  let first = true;
  for await (const chunk of lines) {
    const json = chunk.map((t) => JSON.stringify(t)).join(",");
    yield first ? json : `,${json}`;
    first = false;
  }
  yield "]";
}

/**
 * One page of a run's log (plus every line with needAllLogs) as a RunLogResult in JSON,
 * streamed: the server holds one read's lines at a time however long the log, and the
 * lines are read by key ranges only.
 */
export async function runLogPage(
  ctx: ServerContext,
  run: RunRow,
  pageNum: number,
  pageSize: number,
  needAllLogs: boolean,
): Promise<Readable> {
  const parts = await partsInRankOrder(ctx, run.id);
  const counts = parts.map((p) => ({ deviceId: String(p.device_id), count: p.log_count }));
  const plan = planLogPage(counts, pageNum, pageSize);
  const every = counts.filter((c) => c.count > 0).map((c) => ({ deviceId: c.deviceId, fromSeq: 1, toSeq: c.count }));
  const devices = await devicesById(
    ctx.db,
    parts.map((p) => p.device_id),
  );
  const fullUrl = `${ctx.publicUrl()}/api/v1/runs/${run.id}/logs/full`;
  const runLogs = {
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
  };
  const head = { runStatus: run.status, totalLogLines: plan.totalLines, totalLogPages: plan.totalPages };
  async function* body(): AsyncGenerator<string> {
    yield `${JSON.stringify(head).slice(0, -1)},"logLineList":`;
    yield* jsonArrayOf(linesOf(ctx, run.id, needAllLogs ? every : plan.ranges));
    yield `,"runLogs":${JSON.stringify(runLogs).slice(0, -1)},"logLines":`;
    yield* jsonArrayOf(linesOf(ctx, run.id, plan.ranges));
    yield "}}";
  }
  return Readable.from(body());
}

/** Every line of the run (or of one device), streamed in key-range chunks. */
export async function* fullLogText(ctx: ServerContext, run: RunRow, deviceId: number | null): AsyncGenerator<string> {
  const parts = (await partsInRankOrder(ctx, run.id)).filter((p) => deviceId === null || p.device_id === deviceId);
  const ranges = parts
    .filter((p) => p.log_count > 0)
    .map((p) => ({ deviceId: String(p.device_id), fromSeq: 1, toSeq: p.log_count }));
  for await (const chunk of linesOf(ctx, run.id, ranges)) yield `${chunk.join("\n")}\n`;
}

export interface FollowQuery {
  deviceId?: string;
  afterSeq?: number;
  limit?: number;
  waitMs?: number;
}

/**
 * Lines of one device after `afterSeq`; with waitMs, held until there is one or the run
 * ends. Without a device: the run's first device in rank order (none while queued).
 */
export function followLogLines(
  ctx: ServerContext,
  runId: number,
  query: FollowQuery,
  signal?: AbortSignal,
): Promise<LogLinesResponse> {
  return followPart(ctx, runId, query, signal, { lines: [] }, async (deviceId, afterSeq, limit) => {
    const rows: Awaited<ReturnType<typeof readLogRange>> = [];
    let chars = 0;
    for (let from = afterSeq + 1; from <= afterSeq + limit && chars < FOLLOW_MAX_CHARS; ) {
      const to = Math.min(afterSeq + limit, from + FOLLOW_READ_CHUNK - 1);
      const chunk = await readLogRange(ctx.db, runId, deviceId, from, to);
      for (const row of chunk) {
        rows.push(row);
        chars += row.text.length;
      }
      if (chunk.length < to - from + 1) break;
      from = to + 1;
    }
    return { body: { lines: rows }, count: rows.length };
  });
}

/** The same lines as followLogLines, as the stored chunks' text: no object per line. */
export function followLogText(
  ctx: ServerContext,
  runId: number,
  query: FollowQuery,
  signal?: AbortSignal,
): Promise<LogTextResponse> {
  const afterSeq = query.afterSeq ?? 0;
  return followPart(
    ctx,
    runId,
    query,
    signal,
    { firstSeq: afterSeq + 1, blocks: [], runs: [] },
    async (deviceId, after, limit) => {
      const blocks: [number, string][] = [];
      const runs: LogTextResponse["runs"] = [];
      let count = 0;
      let chars = 0;
      for (const chunk of await readChunks(ctx.db, runId, deviceId, after + 1, after + limit)) {
        if (chars >= FOLLOW_MAX_CHARS || chunk.firstSeq > after + 1 + count) break;
        const part = sliceChunk(chunk, after + 1 + count, after + limit);
        blocks.push([part.count, part.text]);
        runs.push(...part.runs);
        count += part.count;
        chars += part.text.length;
      }
      return { body: { firstSeq: after + 1, blocks, runs }, count };
    },
  );
}

/** Holds a follower's read of one part until it has lines or the run has ended (see followLogLines). */
async function followPart<B extends object>(
  ctx: ServerContext,
  runId: number,
  query: FollowQuery,
  signal: AbortSignal | undefined,
  empty: B,
  readPart: (deviceId: number, afterSeq: number, limit: number) => Promise<{ body: B; count: number }>,
): Promise<B & { deviceId: string | null; lastSeq: number; runStatus: string; done: boolean }> {
  const afterSeq = query.afterSeq ?? 0;
  const limit = Math.min(query.limit ?? 1000, FOLLOW_MAX_LINES);
  const read = async () => {
    const run = await findRun(ctx.db, runId);
    const status = run?.status ?? "UNDETERMINED";
    const parts = await partsInRankOrder(ctx, runId);
    const part = query.deviceId ? parts.find((p) => String(p.device_id) === query.deviceId) : parts[0];
    const ended = isTerminalRunStatus(status);
    if (!part) return { ...empty, deviceId: query.deviceId ?? null, lastSeq: afterSeq, runStatus: status, done: ended, count: 0 };
    const { body, count } = await readPart(part.device_id, afterSeq, limit);
    const lastSeq = afterSeq + count;
    return {
      ...body,
      deviceId: String(part.device_id),
      lastSeq,
      runStatus: status,
      // Nothing past afterSeq once the run has ended is the end too: seqs are contiguous, so
      // a follower cannot be kept waiting for lines a count promises but no row holds.
      done: ended && (lastSeq >= part.log_count || count === 0),
      count,
    };
  };
  const waitMs = Math.min(query.waitMs ?? 0, 25_000);
  const answer =
    (await ctx.hub.waitUntil(
      runTopic(runId),
      waitMs,
      async () => {
        const r = await read();
        return r.count > 0 || r.done ? r : undefined;
      },
      signal,
    )) ?? (await read());
  const { count: _count, ...rest } = answer;
  return rest as B & { deviceId: string | null; lastSeq: number; runStatus: string; done: boolean };
}
