import type { ServerContext } from "../context.js";
import { expirePartLog, partsPastRetention } from "../store/logs.js";
import { dropStaleUploads, evictLeastRecentlyUsed } from "../workspaces/evict.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** How often the sweep runs at most (the server's tick is far more frequent). */
const SWEEP_EVERY_MS = 60_000;
/** An upload untouched this long is abandoned. */
const STALE_UPLOAD_MS = DAY_MS;
/** Parts whose logs expire per sweep: a backlog drains over several sweeps, never in one long stall. */
const EXPIRE_PER_SWEEP = 200;

/**
 * Keeps stored data within the operator's bounds: workspace blobs evicted least recently
 * used first down to the store's size (never one a queued or running run needs), abandoned
 * uploads dropped (and their bytes freed in an S3 store), logs of runs that ended past the retention period replaced by a notice.
 * Answers a function for the server's tick that does the work at most once a minute.
 */
export function storageSweep(ctx: ServerContext, everyMs = SWEEP_EVERY_MS): () => Promise<void> {
  let last = Number.NEGATIVE_INFINITY;
  return async () => {
    const now = ctx.now();
    if (now - last < everyMs) return;
    last = now;
    await dropStaleUploads(ctx.db, ctx.blobs, now, STALE_UPLOAD_MS);
    await evictLeastRecentlyUsed(ctx.db, ctx.blobs, ctx.options.workspaceStoreBytes);
    await ctx.blobs.collect(ctx.db);
    await expireLogs(ctx, now);
  };
}

export async function expireLogs(ctx: ServerContext, now: number): Promise<number> {
  const days = ctx.options.logRetentionDays;
  if (!(days > 0)) return 0;
  const notice = `[fedml] this log was removed ${days} days after the run ended (the server's log retention)`;
  let expired = 0;
  for (const part of await partsPastRetention(ctx.db, now - days * DAY_MS, EXPIRE_PER_SWEEP)) {
    if (await expirePartLog(ctx.db, part, notice, now)) expired += 1;
  }
  return expired;
}
