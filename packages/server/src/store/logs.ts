import type { LogLine } from "@fedml/core";
import { type Kysely, type Transaction, sql } from "kysely";
import { MAX_INT_COLUMN } from "./ids.js";
import type { Database } from "./schema.js";

// Parameters per statement stay under SQLite's and PostgreSQL's limits (6 columns per line).
const INSERT_CHUNK = 500;

/** As the agent cuts lines: a line longer than this (from any client) is stored cut. */
export const MAX_STORED_LINE_CHARS = 64 * 1024;

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

const bytesOf = (text: string) => Buffer.byteLength(text, "utf8");

function quotaNotice(quota: LogQuota, which: "run" | "user"): string {
  const mb = (n: number) => `${Number((n / 1048576).toFixed(1))} MB`;
  return which === "run"
    ? `[fedml] log quota reached: a run keeps at most ${mb(quota.runBytes)} of log per node; later lines are dropped, the job keeps running`
    : `[fedml] log quota reached: your runs' logs hold ${mb(quota.userBytes)}, the most this server keeps per user; later lines are dropped, the job keeps running`;
}

/**
 * Stores a batch of one part's lines, in one transaction. Seqs stay contiguous: lines
 * already stored are skipped, a batch that does not continue the stored lines is refused
 * (from its first gap on), so `log_count` is always the number of lines stored and a
 * claimed seq can never make a log look longer than it is. Once a quota is reached, one
 * notice line takes the next seq and later lines are acknowledged but dropped.
 */
export async function appendLogBatch(
  db: Kysely<Database>,
  runId: number,
  deviceId: number,
  lines: readonly LogLine[],
  quota: LogQuota,
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
    const sorted = [...lines].sort((a, b) => a.seq - b.seq);
    const lastSeq = sorted.length > 0 ? sorted[sorted.length - 1].seq : 0;
    if (part.log_capped !== LogCap.NONE) return { kind: "stored", ackedSeq: Math.max(part.log_count, lastSeq) };
    const fresh: LogLine[] = [];
    for (const line of sorted) {
      if (line.seq <= part.log_count) continue;
      if (line.seq !== part.log_count + fresh.length + 1) break;
      fresh.push(line);
    }
    if (fresh.length === 0) {
      return sorted.some((l) => l.seq > part.log_count)
        ? { kind: "gap", ackedSeq: part.log_count }
        : { kind: "stored", ackedSeq: part.log_count };
    }
    const usage = await trx
      .selectFrom("user_log_usage")
      .select("log_bytes")
      .where("user_id", "=", part.owner_id)
      .executeTakeFirst();
    const runLeft = quota.runBytes - part.log_bytes;
    const userLeft = quota.userBytes - (usage?.log_bytes ?? 0);
    const rows: { seq: number; stream: string; time: number; text: string }[] = [];
    let bytes = 0;
    let capped: "run" | "user" | null = null;
    for (const line of fresh) {
      const text = storedText(line.text);
      const size = bytesOf(text);
      if (bytes + size > Math.min(runLeft, userLeft)) {
        capped = bytes + size > runLeft ? "run" : "user";
        break;
      }
      rows.push({ seq: line.seq, stream: line.stream, time: Math.trunc(line.time), text });
      bytes += size;
    }
    if (capped) {
      const notice = quotaNotice(quota, capped);
      rows.push({ seq: part.log_count + rows.length + 1, stream: "stderr", time: Date.now(), text: notice });
      bytes += bytesOf(notice);
    }
    await insertLines(trx, runId, deviceId, rows);
    const newCount = part.log_count + rows.length;
    await trx
      .updateTable("run_devices")
      .set({
        log_count: newCount,
        log_bytes: sql<number>`log_bytes + ${bytes}`,
        log_capped: capped ? LogCap.QUOTA : LogCap.NONE,
      })
      .where("run_id", "=", runId)
      .where("device_id", "=", deviceId)
      .execute();
    await addUserLogBytes(trx, part.owner_id, bytes);
    // Capped: every line the agent sent is settled (stored or dropped), so it may let them all go.
    return { kind: "stored", ackedSeq: capped ? Math.max(lastSeq, newCount) : newCount };
  });
}

function storedText(text: string): string {
  const cut = text.length > MAX_STORED_LINE_CHARS ? text.slice(0, MAX_STORED_LINE_CHARS) : text;
  // PostgreSQL text cannot hold NUL; SQLite could, but both store the same line.
  return cut.includes("\u0000") ? cut.replaceAll("\u0000", "\uFFFD") : cut;
}

async function insertLines(
  trx: Transaction<Database>,
  runId: number,
  deviceId: number,
  rows: { seq: number; stream: string; time: number; text: string }[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK).map((r) => ({ run_id: runId, device_id: deviceId, ...r }));
    await trx
      .insertInto("log_lines")
      .values(chunk)
      .onConflict((oc) => oc.columns(["run_id", "device_id", "seq"]).doNothing())
      .execute();
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

/** Lines fromSeq..toSeq of one device, by primary-key range (never OFFSET). */
export async function readLogRange(
  db: Kysely<Database>,
  runId: number,
  deviceId: number,
  fromSeq: number,
  toSeq: number,
): Promise<{ seq: number; text: string; time: number }[]> {
  // No stored seq exceeds the column's range; a bound past it would be an error on PostgreSQL.
  if (toSeq < fromSeq || fromSeq > MAX_INT_COLUMN) return [];
  toSeq = Math.min(toSeq, MAX_INT_COLUMN);
  return db
    .selectFrom("log_lines")
    .select(["seq", "text", "time"])
    .where("run_id", "=", runId)
    .where("device_id", "=", deviceId)
    .where("seq", ">=", fromSeq)
    .where("seq", "<=", toSeq)
    .orderBy("seq")
    .execute();
}

/** Parts of runs that ended before `endedBefore` whose logs are still kept, oldest first. */
export function partsPastRetention(
  db: Kysely<Database>,
  endedBefore: number,
  limit: number,
): Promise<{ run_id: number; device_id: number; log_bytes: number; log_capped: number; owner_id: number }[]> {
  return db
    .selectFrom("run_devices")
    .innerJoin("runs", "runs.id", "run_devices.run_id")
    .select(["run_devices.run_id", "run_devices.device_id", "run_devices.log_bytes", "run_devices.log_capped", "runs.owner_id"])
    .where("runs.ended_at", "<", endedBefore)
    .where("run_devices.log_capped", "!=", LogCap.EXPIRED)
    .where("run_devices.log_count", ">", 0)
    .orderBy("runs.ended_at")
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
    await trx.deleteFrom("log_lines").where("run_id", "=", part.run_id).where("device_id", "=", part.device_id).execute();
    await insertLines(trx, part.run_id, part.device_id, [{ seq: 1, stream: "stderr", time: now, text: notice }]);
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
