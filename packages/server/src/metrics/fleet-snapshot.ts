/**
 * What /metrics reports about the fleet, read from the database at scrape time: every replica
 * of the control plane reports the same numbers, and nothing has to be counted on the hot path.
 */
import { DeviceStatus, RunStatus } from "@fedml/core";
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.js";

export interface FleetSnapshot {
  runsByStatus: Map<string, number>;
  queueLength: number;
  /** Seconds the longest-waiting queued run has waited; 0 with an empty queue. */
  oldestQueuedSeconds: number;
  /** Runs that ever got their devices. */
  placements: number;
  devicesOnline: number;
  devicesByStatus: Map<string, number>;
  /** GPUs held times hours held, every run part so far (running ones up to now). */
  gpuHours: number;
  /** Log lines stored for every run part. */
  logLines: number;
  /** Runs placed after `placedAfter`: when, and how long they had waited. */
  newlyPlaced: { placedAt: number; waitSeconds: number }[];
}

const QUEUED = [RunStatus.QUEUED, RunStatus.CLUSTER_QUEUE];
const HOUR_MS = 3_600_000;

export async function readFleetSnapshot(
  db: Kysely<Database>,
  now: number,
  isOnline: (lastSeenAt: number | null) => boolean,
  placedAfter: number,
): Promise<FleetSnapshot> {
  const byStatus = await db
    .selectFrom("runs")
    .select(["status", (eb) => eb.fn.countAll<number | string>().as("n")])
    .groupBy("status")
    .execute();
  const runsByStatus = new Map(byStatus.map((r) => [r.status, Number(r.n)]));
  const oldest = await db
    .selectFrom("runs")
    .select((eb) => eb.fn.min<number | string | null>("created_at").as("t"))
    .where("status", "in", QUEUED)
    .executeTakeFirst();
  const placed = await db
    .selectFrom("runs")
    .select((eb) => eb.fn.countAll<number | string>().as("n"))
    .where("placed_at", "is not", null)
    .executeTakeFirst();
  const devices = await db.selectFrom("devices").select(["status", "last_seen_at"]).where("removed", "=", 0).execute();
  const devicesByStatus = new Map<string, number>();
  let devicesOnline = 0;
  for (const d of devices) {
    const status = isOnline(d.last_seen_at) && d.status !== DeviceStatus.OFFLINE ? d.status : DeviceStatus.OFFLINE;
    if (status !== DeviceStatus.OFFLINE) devicesOnline += 1;
    devicesByStatus.set(status, (devicesByStatus.get(status) ?? 0) + 1);
  }
  const parts = await db.selectFrom("run_devices").select(["started_at", "ended_at", "gpu_indices_json", "log_count"]).execute();
  let gpuHours = 0;
  let logLines = 0;
  for (const p of parts) {
    logLines += Number(p.log_count);
    if (p.started_at === null) continue;
    gpuHours += (gpuCount(p.gpu_indices_json) * Math.max(0, (p.ended_at ?? now) - p.started_at)) / HOUR_MS;
  }
  const newlyPlaced = await db
    .selectFrom("runs")
    .select(["created_at", "placed_at"])
    .where("placed_at", ">", placedAfter)
    .execute();
  const oldestAt = oldest?.t === null || oldest?.t === undefined ? null : Number(oldest.t);
  return {
    runsByStatus,
    queueLength: QUEUED.reduce((sum, s) => sum + (runsByStatus.get(s) ?? 0), 0),
    oldestQueuedSeconds: oldestAt === null ? 0 : Math.max(0, (now - oldestAt) / 1000),
    placements: Number(placed?.n ?? 0),
    devicesOnline,
    devicesByStatus,
    gpuHours,
    logLines,
    newlyPlaced: newlyPlaced.map((r) => ({
      placedAt: Number(r.placed_at),
      waitSeconds: Math.max(0, (Number(r.placed_at) - r.created_at) / 1000),
    })),
  };
}

function gpuCount(json: string): number {
  try {
    const parsed = JSON.parse(json) as unknown;
    return Array.isArray(parsed) ? parsed.length : 0;
  } catch {
    return 0;
  }
}
