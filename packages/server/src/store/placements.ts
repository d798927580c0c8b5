/**
 * A queue pass's placements written as a few set-based statements instead of several per
 * run: claim the runs (one conditional update per batch), insert their parts (multi-row),
 * bump their devices' versions (one update per batch). Every statement runs on SQLite and
 * PostgreSQL alike. Called inside the placement transaction.
 */
import { EdgeStatus, RunStatus } from "@fedml/core";
import { type Insertable, type Kysely, sql } from "kysely";
import type { Database, RunDevicesTable } from "./schema.js";
import { isPostgres } from "./transaction.js";

/** One run's placement as the store writes it: node i runs on `nodes[i]` with rank i + firstRank. */
export interface PlacementRow {
  runId: number;
  firstRank: number;
  nodes: readonly { deviceId: number; gpuIndices: readonly number[]; pricePerGpuHourMicros: number }[];
}

/** One waiting run's new reason, written only while the run is still in `status`. */
export interface WaitReasonRow {
  runId: number;
  status: string;
  reason: string;
}

/**
 * Bound parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535, so a pass of
 * any size splits into statements either accepts.
 */
const MAX_PARAMS = 30_000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Claims the runs still waiting (QUEUED or CLUSTER_QUEUE) and writes their parts and device
 * bumps. Answers the ids claimed: a run not among them changed meanwhile (someone else got
 * there first, e.g. a stop) and nothing was written for it.
 */
export async function writePlacements(
  db: Kysely<Database>,
  placements: readonly PlacementRow[],
  placedAt: number,
): Promise<Set<number>> {
  const claimed = new Set<number>();
  for (const batch of chunks(
    placements.map((p) => p.runId),
    MAX_PARAMS - 8,
  )) {
    const rows = await db
      .updateTable("runs")
      .set({ status: RunStatus.STARTING, reason: null, placed_at: placedAt })
      .where("id", "in", batch)
      .where("status", "in", [RunStatus.QUEUED, RunStatus.CLUSTER_QUEUE])
      .returning("id")
      .execute();
    for (const row of rows) claimed.add(Number(row.id));
  }
  const parts: Insertable<RunDevicesTable>[] = [];
  const deviceIds = new Set<number>();
  for (const p of placements) {
    if (!claimed.has(p.runId)) continue;
    for (const [index, node] of p.nodes.entries()) {
      parts.push({
        run_id: p.runId,
        device_id: node.deviceId,
        rank: index + p.firstRank,
        node_index: index,
        status: EdgeStatus.QUEUED,
        gpu_indices_json: JSON.stringify(node.gpuIndices),
        exit_code: null,
        reason: null,
        started_at: null,
        ended_at: null,
        log_count: 0,
        price_per_gpu_hour_micros: node.pricePerGpuHourMicros,
        stop_requested: 0,
      });
      deviceIds.add(node.deviceId);
    }
  }
  const columns = 13;
  for (const batch of chunks(parts, Math.floor(MAX_PARAMS / columns))) await db.insertInto("run_devices").values(batch).execute();
  await bumpDeviceVersions(db, [...deviceIds]);
  return claimed;
}

/**
 * Bumps each device's version once (agents long-poll on it). Rows are locked in id order
 * first, as every change that bumps several devices does: two transactions never wait on
 * each other's device rows in opposite orders (a PostgreSQL deadlock). SQLite's one writer
 * needs no row locks.
 */
export async function bumpDeviceVersions(db: Kysely<Database>, ids: readonly number[]): Promise<void> {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  for (const batch of chunks(sorted, MAX_PARAMS)) {
    if (isPostgres(db)) {
      await db.selectFrom("devices").select("id").where("id", "in", batch).orderBy("id").forNoKeyUpdate().execute();
    }
    await db.updateTable("devices").set({ version: sql<number>`version + 1` }).where("id", "in", batch).execute();
  }
}

/**
 * Writes waiting runs' reasons, each only while its run is still in the status it was read
 * in: one `case` update per status and batch rather than one statement per run.
 */
export async function writeWaitReasons(db: Kysely<Database>, waits: readonly WaitReasonRow[]): Promise<void> {
  const byStatus = new Map<string, WaitReasonRow[]>();
  for (const w of waits) {
    const list = byStatus.get(w.status);
    if (list) list.push(w);
    else byStatus.set(w.status, [w]);
  }
  for (const [status, rows] of byStatus) {
    // Small batches: `case` tries its branches in turn for every row it updates.
    for (const batch of chunks(rows, 500)) {
      const cases = sql.join(
        batch.map((w) => sql`when ${w.runId} then ${w.reason}`),
        sql` `,
      );
      await db
        .updateTable("runs")
        .set({ reason: sql<string>`case id ${cases} end` })
        .where(
          "id",
          "in",
          batch.map((w) => w.runId),
        )
        .where("status", "=", status)
        .execute();
    }
  }
}
