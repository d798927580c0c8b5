import type { JobSpec } from "@fedml/core";
import { EdgeStatus, RunStatus } from "@fedml/core";
import type { Kysely } from "kysely";
import { deviceTopic, type NotifyHub, runTopic } from "../notify.js";
import { jobNeeds } from "../runs/needs.js";
import { creditStanding, type Standing } from "../store/credit.js";
import { type DeviceRow, bumpDeviceVersion, listLiveDevices } from "../store/devices.js";
import { type RunRow, insertRunDevice, lastServedByOwner, listLiveRunDevices, listQueueHeads, updateRun } from "../store/runs.js";
import type { Database } from "../store/schema.js";
import { type LiveRunPartRow, toCandidates } from "./capacity.js";
import { fairOrder } from "./fair-queue.js";
import { type CandidateDevice, type JobNeeds, type MatchResult, matchJob } from "./matcher.js";
import { Mutex } from "./mutex.js";

export interface PlacementDeps {
  db: Kysely<Database>;
  hub: NotifyHub;
  /** Whether a device last heard from at `lastSeenAt` counts as online (OFFLINE ones never do). */
  isOnline: (lastSeenAt: number | null) => boolean;
  now: () => number;
}

export type Placed = Extract<MatchResult, { kind: "placed" }>;

/** How many of each user's queued runs one pass looks at (their oldest, highest priority). */
const QUEUE_WINDOW_PER_USER = 50;

/** One read of the fleet: devices online and the run parts holding their GPUs. */
interface Snapshot {
  devices: DeviceRow[];
  live: LiveRunPartRow[];
}

/**
 * Decides where runs go. Every decision and the rows it writes happen under one mutex so
 * two launches never take the same GPU.
 */
export class Placement {
  private readonly mutex = new Mutex();
  /** A placement pass queued behind the lock; callers arriving meanwhile share it. */
  private nextPass: Promise<void> | undefined;

  constructor(private readonly deps: PlacementDeps) {}

  /** Runs `section` exclusively with a matcher bound to current capacity. */
  exclusive<T>(section: (match: (ownerId: number, needs: JobNeeds) => Promise<MatchResult>) => Promise<T>): Promise<T> {
    return this.mutex.run(() => section((ownerId, needs) => this.match(ownerId, needs)));
  }

  /** The devices `ownerId` may use, with what is free on them now (for matching and dry runs). */
  async candidatesFor(ownerId: number): Promise<CandidateDevice[]> {
    return candidatesOf(ownerId, await this.snapshot());
  }

  /**
   * Assigns a stored run to its devices, all at once (gang): node i gets rank i + 1 and
   * waits QUEUED for its agent to take it.
   */
  async assign(run: Pick<RunRow, "id">, placed: Placed): Promise<void> {
    const { db, hub } = this.deps;
    for (const [index, node] of placed.nodes.entries()) {
      await insertRunDevice(db, {
        run_id: run.id,
        device_id: Number(node.deviceId),
        rank: index + 1,
        node_index: index,
        status: EdgeStatus.QUEUED,
        gpu_indices_json: JSON.stringify(node.gpuIndices),
        exit_code: null,
        reason: null,
        started_at: null,
        ended_at: null,
        log_count: 0,
        price_per_gpu_hour: node.pricePerGpuHour,
        stop_requested: 0,
      });
    }
    await updateRun(db, run.id, { status: RunStatus.STARTING, reason: null, placed_at: this.deps.now() });
    for (const node of placed.nodes) {
      await bumpDeviceVersion(db, Number(node.deviceId));
      hub.notify(deviceTopic(Number(node.deviceId)));
    }
    hub.notify(runTopic(run.id));
  }

  /**
   * Places QUEUED runs in fair order (fair-queue.ts) over one snapshot of the fleet, which
   * each placement updates in memory. Calls that arrive while a pass waits for the lock
   * share that pass: it has not read the store yet, so it sees their changes.
   */
  placeQueued(): Promise<void> {
    this.nextPass ??= this.mutex.run(async () => {
      this.nextPass = undefined;
      const { db } = this.deps;
      const heads = await listQueueHeads(db, QUEUE_WINDOW_PER_USER);
      if (heads.length === 0) return;
      const snap = await this.snapshot();
      const credit = new Map<number, Standing>();
      const lastServed = await lastServedByOwner(
        db,
        heads.map((r) => r.owner_id),
      );
      for (const run of fairOrder(heads, lastServed)) {
        const spec = JSON.parse(run.spec_json) as JobSpec;
        if (!credit.has(run.owner_id)) credit.set(run.owner_id, await creditStanding(db, run.owner_id));
        const needs = { ...jobNeeds(spec, run.resource_id, run.owner_id), credit: credit.get(run.owner_id) };
        const result = matchJob(needs, candidatesOf(run.owner_id, snap));
        if (result.kind === "placed") {
          await this.assign(run, result);
          for (const node of result.nodes) {
            snap.live.push({ device_id: Number(node.deviceId), gpu_indices_json: JSON.stringify(node.gpuIndices) });
          }
        } else if (result.reason !== run.reason) {
          await updateRun(db, run.id, { reason: result.reason });
        }
      }
    });
    return this.nextPass;
  }

  private async snapshot(): Promise<Snapshot> {
    const { db, isOnline } = this.deps;
    const devices = (await listLiveDevices(db)).filter((d) => isOnline(d.last_seen_at));
    const live = await listLiveRunDevices(
      db,
      devices.map((d) => d.id),
    );
    return { devices, live };
  }

  private async match(ownerId: number, needs: JobNeeds): Promise<MatchResult> {
    return matchJob(needs, candidatesOf(ownerId, await this.snapshot()));
  }
}

/** The user's own devices and shared ones, with free capacity. */
function candidatesOf(ownerId: number, snap: Snapshot): CandidateDevice[] {
  const usable = snap.devices.filter((d) => d.owner_id === ownerId || d.shared === 1);
  return toCandidates(usable, snap.live);
}
