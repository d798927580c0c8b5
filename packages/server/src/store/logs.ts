import type { LogLine } from "@fedml/core";
import { type Kysely, sql } from "kysely";
import { MAX_INT_COLUMN } from "./ids.js";
import type { Database } from "./schema.js";

// Parameters per statement stay under SQLite's and PostgreSQL's limits (6 columns per line).
const INSERT_CHUNK = 500;

/**
 * Stores a batch once: lines already stored are skipped. Answers the new log_count, which is
 * the highest seq stored for (run, device).
 */
export async function appendLogBatch(db: Kysely<Database>, runId: number, deviceId: number, lines: LogLine[]): Promise<number> {
  return db.transaction().execute(async (trx) => {
    for (let i = 0; i < lines.length; i += INSERT_CHUNK) {
      const chunk = lines.slice(i, i + INSERT_CHUNK).map((l) => ({
        run_id: runId,
        device_id: deviceId,
        seq: l.seq,
        stream: l.stream,
        time: Math.trunc(l.time),
        // PostgreSQL text cannot hold NUL; SQLite could, but both store the same line.
        text: l.text.includes("\u0000") ? l.text.replaceAll("\u0000", "\uFFFD") : l.text,
      }));
      await trx
        .insertInto("log_lines")
        .values(chunk)
        .onConflict((oc) => oc.columns(["run_id", "device_id", "seq"]).doNothing())
        .execute();
    }
    const last = lines.reduce((max, l) => Math.max(max, l.seq), 0);
    await trx
      .updateTable("run_devices")
      .set({ log_count: sql<number>`case when log_count < ${last} then ${last} else log_count end` })
      .where("run_id", "=", runId)
      .where("device_id", "=", deviceId)
      .execute();
    const row = await trx
      .selectFrom("run_devices")
      .select("log_count")
      .where("run_id", "=", runId)
      .where("device_id", "=", deviceId)
      .executeTakeFirstOrThrow();
    return row.log_count;
  });
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
