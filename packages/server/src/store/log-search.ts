import type { Kysely } from "kysely";
import { MAX_INT_COLUMN } from "./ids.js";
import { containsIgnoringCase } from "./like.js";
import type { Database } from "./schema.js";

/**
 * The seq of the next line of one part (after `afterSeq`, or before `beforeSeq` going back)
 * that contains `text`, any case; undefined when there is none. Read by the primary key's
 * order, so it stops at the first match.
 */
export async function findLogLine(
  db: Kysely<Database>,
  where: { runId: number; deviceId: number; text: string },
  from: { afterSeq: number } | { beforeSeq: number },
): Promise<number | undefined> {
  let q = db
    .selectFrom("log_lines")
    .select("seq")
    .where("run_id", "=", where.runId)
    .where("device_id", "=", where.deviceId)
    .where(containsIgnoringCase("text", where.text));
  q =
    "afterSeq" in from
      ? q.where("seq", ">", Math.min(from.afterSeq, MAX_INT_COLUMN)).orderBy("seq", "asc")
      : q.where("seq", "<", Math.min(from.beforeSeq, MAX_INT_COLUMN)).orderBy("seq", "desc");
  const row = await q.limit(1).executeTakeFirst();
  return row?.seq;
}
