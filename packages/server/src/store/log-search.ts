import type { Kysely } from "kysely";
import { MAX_INT_COLUMN } from "./ids.js";
import { containsIgnoringCase } from "./like.js";
import { linesOfChunk } from "./log-chunks.js";
import type { Database } from "./schema.js";

/** Chunks read per query while looking for a match. */
const CHUNKS_PER_READ = 16;

/**
 * The seq of the next line of one part (after `afterSeq`, or before `beforeSeq` going back)
 * that contains `text`, any case; undefined when there is none. The database picks the chunks
 * that contain it (read in key order, so it stops early); the line is found in the chunk,
 * matched as the database matches (lower-cased on both sides).
 */
export async function findLogLine(
  db: Kysely<Database>,
  where: { runId: number; deviceId: number; text: string },
  from: { afterSeq: number } | { beforeSeq: number },
): Promise<number | undefined> {
  const needle = where.text.toLowerCase();
  const forward = "afterSeq" in from;
  let bound = forward ? Math.min(from.afterSeq, MAX_INT_COLUMN) : Math.min(from.beforeSeq, MAX_INT_COLUMN);
  for (;;) {
    let q = db
      .selectFrom("log_chunks")
      .select(["first_seq", "last_seq", "text"])
      .where("run_id", "=", where.runId)
      .where("device_id", "=", where.deviceId)
      .where(containsIgnoringCase("text", where.text));
    // Forward: from the chunk holding bound + 1 (the last to start at or before it), by the key.
    const holding = db
      .selectFrom("log_chunks")
      .select("first_seq")
      .where("run_id", "=", where.runId)
      .where("device_id", "=", where.deviceId)
      .where("first_seq", "<=", Math.min(bound + 1, MAX_INT_COLUMN))
      .orderBy("first_seq", "desc")
      .limit(1);
    q = forward
      ? q
          .where("first_seq", ">=", (eb) => eb.fn.coalesce(holding, eb.val(1)))
          .where("last_seq", ">", bound)
          .orderBy("first_seq", "asc")
      : q.where("first_seq", "<", bound).orderBy("first_seq", "desc");
    const rows = await q.limit(CHUNKS_PER_READ).execute();
    for (const row of rows) {
      const first = Number(row.first_seq);
      const lines = linesOfChunk({ count: Number(row.last_seq) - first + 1, text: row.text });
      const order = lines.map((_, i) => i).filter((i) => (forward ? first + i > bound : first + i < bound));
      if (!forward) order.reverse();
      for (const i of order) if (lines[i].toLowerCase().includes(needle)) return first + i;
      bound = forward ? Number(row.last_seq) : first;
    }
    if (rows.length < CHUNKS_PER_READ) return undefined;
  }
}
