/**
 * A queue pass's placements written as a few set-based statements, whatever the size of the
 * pass: claim the runs and insert their parts (one statement per chunk on PostgreSQL, two on
 * SQLite), bump their devices' versions (one update), write the waiting runs' reasons (one
 * update per status).
 * The rows travel as a few array parameters (PostgreSQL's unnest) or one JSON parameter
 * (SQLite's json_each) rather than one parameter per value: building and parsing a statement
 * with tens of thousands of parameters cost more than running it. Called inside the
 * placement transaction.
 */
import { EdgeStatus, RunStatus } from "@fedml/core";
import { type Kysely, sql } from "kysely";
import { idRows, rowsOf } from "./row-set.js";
import type { Database } from "./schema.js";
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

/** A part's row as the statements below read it: run, device, rank, node index, GPUs (JSON), price. */
type PartTuple = [number, number, number, number, string, number];
const partTypes = ["int8", "int8", "int4", "int4", "text", "int8"];

function partTuples(placements: readonly PlacementRow[]): PartTuple[] {
  const parts: PartTuple[] = [];
  for (const p of placements) {
    for (const [index, node] of p.nodes.entries()) {
      parts.push([
        p.runId,
        node.deviceId,
        index + p.firstRank,
        index,
        JSON.stringify(node.gpuIndices),
        node.pricePerGpuHourMicros,
      ]);
    }
  }
  return parts;
}

async function insertPartTuples(db: Kysely<Database>, parts: readonly PartTuple[]): Promise<void> {
  if (parts.length === 0) return;
  await sql`
    insert into run_devices
      (run_id, device_id, rank, node_index, status, gpu_indices_json, log_count, price_per_gpu_hour_micros, stop_requested)
    select c0, c1, c2, c3, ${EdgeStatus.QUEUED}, c4, 0, c5, 0 from ${rowsOf(db, partTypes, parts)}`.execute(db);
}

/**
 * The parts of runs stored placed (STARTING) in this same transaction, and their devices'
 * bumps: nothing to claim, since no one else can have seen those runs yet.
 */
export async function writeFreshPlacements(db: Kysely<Database>, placements: readonly PlacementRow[]): Promise<void> {
  const parts = partTuples(placements);
  await insertPartTuples(db, parts);
  await bumpDeviceVersions(
    db,
    parts.map((part) => part[1]),
  );
}

/** What claimPlacements wrote: the runs claimed and the devices their parts went to (to bump). */
export interface Claimed {
  claimed: Set<number>;
  deviceIds: number[];
}

/**
 * Claims the runs still waiting (QUEUED or CLUSTER_QUEUE) and writes their parts. Answers the
 * ids claimed: a run not among them changed meanwhile (someone else got there first, e.g. a
 * stop) and nothing was written for it. The devices are not bumped here, so that a pass can
 * claim its placements in chunks
 * while it decides the next ones and bump every device once, in id order, at its end (bumping
 * per chunk would lock device rows out of order: a deadlock with a batch of heartbeats).
 * PostgreSQL: one statement per chunk (the claim and the parts' insert as data-modifying CTEs),
 * so a chunk costs one round trip. SQLite has no data-modifying CTEs; its statements cost no
 * round trip.
 */
export async function claimPlacements(
  db: Kysely<Database>,
  placements: readonly PlacementRow[],
  placedAt: number,
): Promise<Claimed> {
  if (placements.length === 0) return { claimed: new Set(), deviceIds: [] };
  const parts = partTuples(placements);
  // A run without nodes is still claimed: the ids travel apart from the parts.
  const ids = idRows(
    db,
    placements.map((p) => p.runId),
  );
  const { QUEUED, CLUSTER_QUEUE, STARTING } = RunStatus;
  let claimed: Set<number>;
  if (isPostgres(db)) {
    const { rows } = await sql<{ id: number }>`
      with claimed as (
        update runs set status = ${STARTING}, reason = null, placed_at = ${placedAt}
        where id in (select c0 from ${ids}) and status in (${QUEUED}, ${CLUSTER_QUEUE})
        returning id),
      parts as (
        insert into run_devices
          (run_id, device_id, rank, node_index, status, gpu_indices_json, log_count, price_per_gpu_hour_micros, stop_requested)
        select c0, c1, c2, c3, ${EdgeStatus.QUEUED}, c4, 0, c5, 0 from ${rowsOf(db, partTypes, parts)}
        where c0 in (select id from claimed))
      select id from claimed`.execute(db);
    claimed = new Set(rows.map((row) => Number(row.id)));
  } else {
    const { rows } = await sql<{ id: number }>`
      update runs set status = ${STARTING}, reason = null, placed_at = ${placedAt}
      where id in (select c0 from ${ids}) and status in (${QUEUED}, ${CLUSTER_QUEUE})
      returning id`.execute(db);
    claimed = new Set(rows.map((row) => Number(row.id)));
    await insertPartTuples(
      db,
      parts.filter((part) => claimed.has(part[0])),
    );
  }
  const deviceIds = parts.filter((part) => claimed.has(part[0])).map((part) => part[1]);
  return { claimed, deviceIds };
}

/**
 * Bumps each device's version once (agents long-poll on it). On PostgreSQL the rows are
 * locked in id order first, as every change that bumps several devices does: two
 * transactions never wait on each other's device rows in opposite orders (a deadlock).
 * SQLite's one writer needs no row locks.
 */
export async function bumpDeviceVersions(db: Kysely<Database>, ids: readonly number[]): Promise<void> {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  if (sorted.length === 0) return;
  const wanted = idRows(db, sorted);
  const locked = isPostgres(db)
    ? sql`select id from devices where id in (select c0 from ${wanted}) order by id for no key update`
    : sql`select c0 from ${wanted}`;
  await sql`update devices set version = version + 1 where id in (${locked})`.execute(db);
}

/**
 * Writes waiting runs' reasons, each only while its run is still in the status it was read in.
 * PostgreSQL: one update per status, joined to the (id, reason) pairs. SQLite runs that join
 * with the runs table outside, reading every pair again for each run (minutes at 10,000 runs),
 * so there it is one update per status and reason: runs waiting for the same thing share it.
 */
export async function writeWaitReasons(db: Kysely<Database>, waits: readonly WaitReasonRow[]): Promise<void> {
  const postgres = isPostgres(db);
  const groups = new Map<string, WaitReasonRow[]>();
  for (const w of waits) {
    const key = postgres ? w.status : `${w.status}\u0000${w.reason}`;
    const list = groups.get(key);
    if (list) list.push(w);
    else groups.set(key, [w]);
  }
  for (const rows of groups.values()) {
    const { status, reason } = rows[0];
    if (postgres) {
      const reasons = rowsOf(
        db,
        ["int8", "text"],
        rows.map((w) => [w.runId, w.reason]),
      );
      await sql`update runs set reason = v.c1 from ${reasons} where runs.id = v.c0 and runs.status = ${status}`.execute(db);
    } else {
      const ids = idRows(
        db,
        rows.map((w) => w.runId),
      );
      await sql`update runs set reason = ${reason} where id in (select c0 from ${ids}) and status = ${status}`.execute(db);
    }
  }
}
