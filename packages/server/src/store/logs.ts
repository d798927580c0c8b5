import type { LogLine, LogTextBatch } from "@fedml/core";
import { type Kysely, type Transaction, sql } from "kysely";
import { MAX_INT_COLUMN } from "./ids.js";
import {
  type LogChunk,
  bytesOf,
  chunkOfRow,
  chunksOfLines,
  chunksOfText,
  expandRuns,
  linesInText,
  linesOfChunk,
  singleLine,
  sliceChunk,
} from "./log-chunks.js";
import { partsThenRuns } from "./runs.js";
import type { Database } from "./schema.js";

export { MAX_STORED_LINE_CHARS } from "./log-chunks.js";

// Parameters per statement stay under SQLite's and PostgreSQL's limits (6 columns per chunk).
const INSERT_CHUNK = 500;

/** run_devices.log_capped: why the part's log stopped growing. */
export const LogCap = { NONE: 0, QUOTA: 1, EXPIRED: 2 } as const;

export interface LogQuota {
  /** Bytes of text one part may store. */
  runBytes: number;
  /** Bytes of text the run owner's parts may store together. */
  userBytes: number;
}

export type LogAppendResult =
  /** ackedSeq: the agent may drop every line up to it (stored, or dropped by a quota). */
  | { kind: "stored"; ackedSeq: number }
  /** The batch does not follow what is stored: resend from ackedSeq + 1. */
  | { kind: "gap"; ackedSeq: number }
  | { kind: "no_part" };

function quotaNotice(quota: LogQuota, which: "run" | "user"): string {
  const mb = (n: number) => `${Number((n / 1048576).toFixed(1))} MB`;
  return which === "run"
    ? `[fedml] log quota reached: a run keeps at most ${mb(quota.runBytes)} of log per node; later lines are dropped, the job keeps running`
    : `[fedml] log quota reached: your runs' logs hold ${mb(quota.userBytes)}, the most this server keeps per user; later lines are dropped, the job keeps running`;
}

export function appendLogBatch(
  db: Kysely<Database>,
  runId: number,
  deviceId: number,
  lines: readonly LogLine[],
  quota: LogQuota,
): Promise<LogAppendResult> {
  const sorted = [...lines].sort((a, b) => a.seq - b.seq);
  const lastSeq = sorted.length > 0 ? sorted[sorted.length - 1].seq : 0;
  return appendChunks(db, runId, deviceId, quota, {
    lastSeq,
    chunksFrom(seq) {
      let i = 0;
      while (i < sorted.length && sorted[i].seq < seq) i++;
      const fresh: LogLine[] = [];
      // Up to the first gap (or repeated seq) in the batch.
      for (; i < sorted.length && sorted[i].seq === seq + fresh.length; i++) fresh.push(sorted[i]);
      return fresh.length > 0 ? chunksOfLines(seq, fresh) : "gap";
    },
  });
}

/**
 * The same as appendLogBatch for lines sent as one text (LogTextBatch): the lines are cut
 * into chunks by their "\n"s, with no object per line. A batch whose runs do not cover its
 * lines is refused (400) and changes nothing.
 */
export function appendLogText(
  db: Kysely<Database>,
  runId: number,
  deviceId: number,
  batch: LogTextBatch,
  quota: LogQuota,
): Promise<LogAppendResult> {
  const count = linesInText(batch);
  const lastSeq = count > 0 ? batch.firstSeq + count - 1 : 0;
  return appendChunks(db, runId, deviceId, quota, {
    lastSeq,
    chunksFrom: (seq) => (seq < batch.firstSeq || seq > lastSeq ? "gap" : chunksOfText(batch, seq)),
  });
}

/** A batch's lines from any seq on, as chunks to store; "gap": it holds no line at that seq. */
interface ChunkSource {
  /** The batch's last seq (0 when empty). */
  lastSeq: number;
  chunksFrom(seq: number): LogChunk[] | "gap";
}

/**
 * Stores a batch of one part's lines, in one transaction, as chunks of lines (a row per
 * chunk, not per line). Seqs stay contiguous: lines already stored are skipped, a batch that
 * does not continue the stored lines is refused (from its first gap on), so `log_count` is
 * always the number of lines stored and a claimed seq can never make a log look longer than
 * it is. Once a quota is reached, one notice line takes the next seq and later lines are
 * acknowledged but dropped.
 */
async function appendChunks(
  db: Kysely<Database>,
  runId: number,
  deviceId: number,
  quota: LogQuota,
  source: ChunkSource,
): Promise<LogAppendResult> {
  return db.transaction().execute(async (trx) => {
    // A no-op write first: on PostgreSQL it locks the part's row, so two batches of one part
    // apply one after the other (SQLite's single writer does that already).
    await trx
      .updateTable("run_devices")
      .set({ log_count: sql<number>`log_count` })
      .where("run_id", "=", runId)
      .where("device_id", "=", deviceId)
      .execute();
    const part = await trx
      .selectFrom("run_devices")
      .innerJoin("runs", "runs.id", "run_devices.run_id")
      .select(["run_devices.log_count", "run_devices.log_bytes", "run_devices.log_capped", "runs.owner_id"])
      .where("run_devices.run_id", "=", runId)
      .where("run_devices.device_id", "=", deviceId)
      .executeTakeFirst();
    if (!part) return { kind: "no_part" };
    const lastSeq = source.lastSeq;
    if (part.log_capped !== LogCap.NONE) return { kind: "stored", ackedSeq: Math.max(part.log_count, lastSeq) };
    if (lastSeq <= part.log_count) return { kind: "stored", ackedSeq: part.log_count };
    const fresh = source.chunksFrom(part.log_count + 1);
    if (fresh === "gap") return { kind: "gap", ackedSeq: part.log_count };
    const usage = await trx
      .selectFrom("user_log_usage")
      .select("log_bytes")
      .where("user_id", "=", part.owner_id)
      .executeTakeFirst();
    const runLeft = quota.runBytes - part.log_bytes;
    const userLeft = quota.userBytes - (usage?.log_bytes ?? 0);
    const { chunks, bytes, capped } = withinQuota(fresh, Math.min(runLeft, userLeft));
    let count = chunks.reduce((sum, c) => sum + c.count, 0);
    let stored = bytes;
    if (capped) {
      const notice = quotaNotice(quota, bytes + capped > runLeft ? "run" : "user");
      chunks.push(singleLine(part.log_count + count + 1, notice, Date.now(), 1));
      stored += bytesOf(notice);
      count++;
    }
    await insertChunks(trx, runId, deviceId, chunks);
    const newCount = part.log_count + count;
    await trx
      .updateTable("run_devices")
      .set({
        log_count: newCount,
        log_bytes: sql<number>`log_bytes + ${stored}`,
        log_capped: capped ? LogCap.QUOTA : LogCap.NONE,
      })
      .where("run_id", "=", runId)
      .where("device_id", "=", deviceId)
      .execute();
    await addUserLogBytes(trx, part.owner_id, stored);
    // Capped: every line the agent sent is settled (stored or dropped), so it may let them all go.
    return { kind: "stored", ackedSeq: capped ? Math.max(lastSeq, newCount) : newCount };
  });
}

/**
 * The chunks (and the lines of a chunk) that fit in `left` bytes; `capped`: the size of the
 * first line that did not fit (0 when all fit).
 */
function withinQuota(chunks: LogChunk[], left: number): { chunks: LogChunk[]; bytes: number; capped: number } {
  const kept: LogChunk[] = [];
  let bytes = 0;
  for (const chunk of chunks) {
    if (bytes + chunk.bytes <= left) {
      kept.push(chunk);
      bytes += chunk.bytes;
      continue;
    }
    // The chunk crosses the quota: line by line, to the last line that fits.
    const lines = linesOfChunk(chunk);
    const times = expandRuns(chunk.runs);
    const fit: LogLine[] = [];
    for (let i = 0; i < lines.length; i++) {
      const size = bytesOf(lines[i]);
      if (bytes + size > left) {
        if (fit.length > 0) kept.push(...chunksOfLines(chunk.firstSeq, fit));
        return { chunks: kept, bytes, capped: size };
      }
      bytes += size;
      fit.push({ seq: chunk.firstSeq + i, text: lines[i], time: times[i][0], stream: times[i][1] === 1 ? "stderr" : "stdout" });
    }
  }
  return { chunks: kept, bytes, capped: 0 };
}

async function insertChunks(trx: Transaction<Database>, runId: number, deviceId: number, chunks: LogChunk[]): Promise<void> {
  for (let i = 0; i < chunks.length; i += INSERT_CHUNK) {
    const rows = chunks.slice(i, i + INSERT_CHUNK).map((c) => ({
      run_id: runId,
      device_id: deviceId,
      first_seq: c.firstSeq,
      last_seq: c.firstSeq + c.count - 1,
      text: c.text,
      runs_json: JSON.stringify(c.runs),
    }));
    await trx.insertInto("log_chunks").values(rows).execute();
  }
}

async function addUserLogBytes(trx: Transaction<Database>, userId: number, bytes: number): Promise<void> {
  if (bytes === 0) return;
  await trx
    .insertInto("user_log_usage")
    .values({ user_id: userId, log_bytes: Math.max(0, bytes) })
    .onConflict((oc) => oc.column("user_id").doUpdateSet({ log_bytes: sql<number>`user_log_usage.log_bytes + ${bytes}` }))
    .execute();
}

/** Lines fromSeq..toSeq of one device, read by primary-key ranges (never OFFSET). */
export async function readLogRange(
  db: Kysely<Database>,
  runId: number,
  deviceId: number,
  fromSeq: number,
  toSeq: number,
): Promise<{ seq: number; text: string; time: number }[]> {
  const out: { seq: number; text: string; time: number }[] = [];
  for (const chunk of await readChunks(db, runId, deviceId, fromSeq, toSeq)) {
    // Only the lines asked for are cut out of the chunk and get an object.
    const part = sliceChunk(chunk, fromSeq, toSeq);
    const lines = linesOfChunk(part);
    let i = 0;
    for (const [count, time] of part.runs) {
      for (const end = i + count; i < end; i++) out.push({ seq: part.firstSeq + i, text: lines[i], time });
    }
  }
  return out;
}

/** The stored chunks holding any of lines fromSeq..toSeq of one device, in seq order. */
export async function readChunks(
  db: Kysely<Database>,
  runId: number,
  deviceId: number,
  fromSeq: number,
  toSeq: number,
): Promise<LogChunk[]> {
  // No stored seq exceeds the column's range; a bound past it would be an error on PostgreSQL.
  if (toSeq < fromSeq || fromSeq > MAX_INT_COLUMN) return [];
  toSeq = Math.min(toSeq, MAX_INT_COLUMN);
  fromSeq = Math.max(1, fromSeq);
  // The chunk holding fromSeq starts at the last first_seq <= fromSeq: one index seek.
  const start = db
    .selectFrom("log_chunks")
    .select("first_seq")
    .where("run_id", "=", runId)
    .where("device_id", "=", deviceId)
    .where("first_seq", "<=", fromSeq)
    .orderBy("first_seq", "desc")
    .limit(1);
  const rows = await db
    .selectFrom("log_chunks")
    .select(["first_seq", "last_seq", "text", "runs_json"])
    .where("run_id", "=", runId)
    .where("device_id", "=", deviceId)
    .where("first_seq", ">=", (eb) => eb.fn.coalesce(start, eb.val(1)))
    .where("first_seq", "<=", toSeq)
    .where("last_seq", ">=", fromSeq)
    .orderBy("first_seq")
    .execute();
  return rows.map(chunkOfRow);
}

/**
 * Which parts still keep their logs: the condition of the index run_devices_logs_kept, written
 * out as literals (a database uses a partial index only for a query it can see implies it).
 */
export const LOGS_KEPT = sql<boolean>`run_devices.log_count > 0 and run_devices.log_capped <> ${sql.lit(LogCap.EXPIRED)}`;

/**
 * Parts of runs that ended before `endedBefore` whose logs are still kept, the earliest ended
 * first. Read through run_devices_logs_kept, by the part's own end: what the sweep reads is
 * what it has to expire, not every part that ever ran (a part ends no later than its run, and
 * the run's end decides).
 */
export function partsPastRetention(
  db: Kysely<Database>,
  endedBefore: number,
  limit: number,
): Promise<{ run_id: number; device_id: number; log_bytes: number; log_capped: number; owner_id: number }[]> {
  return partsThenRuns(db)
    .select(["run_devices.run_id", "run_devices.device_id", "run_devices.log_bytes", "run_devices.log_capped", "runs.owner_id"])
    .where(LOGS_KEPT)
    .where("run_devices.ended_at", "<", endedBefore)
    .where("runs.ended_at", "<", endedBefore)
    .orderBy("run_devices.ended_at")
    .limit(limit)
    .execute();
}

/**
 * Replaces a part's log with one notice line (seq 1), in one transaction, conditional on
 * the part not having changed since it was read; the owner's usage goes down to match.
 */
export async function expirePartLog(
  db: Kysely<Database>,
  part: { run_id: number; device_id: number; log_bytes: number; log_capped: number; owner_id: number },
  notice: string,
  now: number,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const noticeBytes = bytesOf(notice);
    const changed = await trx
      .updateTable("run_devices")
      .set({ log_count: 1, log_bytes: noticeBytes, log_capped: LogCap.EXPIRED })
      .where("run_id", "=", part.run_id)
      .where("device_id", "=", part.device_id)
      .where("log_capped", "=", part.log_capped)
      .where("log_bytes", "=", part.log_bytes)
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) !== 1) return false;
    await trx.deleteFrom("log_chunks").where("run_id", "=", part.run_id).where("device_id", "=", part.device_id).execute();
    await insertChunks(trx, part.run_id, part.device_id, [singleLine(1, notice, now, 1)]);
    await trx
      .updateTable("user_log_usage")
      .set({
        log_bytes: sql<number>`case when log_bytes > ${part.log_bytes - noticeBytes} then log_bytes - ${part.log_bytes - noticeBytes} else 0 end`,
      })
      .where("user_id", "=", part.owner_id)
      .execute();
    return true;
  });
}
