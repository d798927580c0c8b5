import { EdgeStatus, RunStatus } from "@fedml/core";
import type { Kysely } from "kysely";
import { scopeCandidates } from "../clusters/scope.js";
import { deviceTopic, type NotifyHub, runTopic } from "../notify.js";
import { jobNeeds } from "./job-needs.js";
import { listReservations } from "../store/clusters.js";
import { creditStanding, type Standing } from "../store/credit.js";
import { type DeviceRow, bumpDeviceVersion, listLiveDevices } from "../store/devices.js";
import {
  type RunRow,
  insertRunDevice,
  lastServedByOwner,
  listClusterQueuedRuns,
  listLiveRunDevices,
  listQueueHeads,
  updateRun,
} from "../store/runs.js";
import type { Database } from "../store/schema.js";
import { type LiveRunPartRow, toCandidates } from "./capacity.js";
import { CandidateIndex } from "./candidate-index.js";
import { fairOrder } from "./fair-queue.js";
import { matchIndexed } from "./indexed-match.js";
import { type CandidateDevice, type JobNeeds, type MatchResult, type Placed, matchJob } from "./matcher.js";
import { Mutex } from "./mutex.js";
import { decodeJobSpec } from "../store/json-columns.js";

export interface PlacementDeps {
  db: Kysely<Database>;
  hub: NotifyHub;
  /** Whether a device last heard from at `lastSeenAt` counts as online (OFFLINE ones never do). */
  isOnline: (lastSeenAt: number | null) => boolean;
  now: () => number;
}

/** The matcher bound to current capacity, as `exclusive` hands it out (clusterId: the cluster hook). */
export type Match = (ownerId: number, needs: JobNeeds, clusterId?: number | null) => Promise<MatchResult>;

/** How many of each user's queued runs one pass looks at (their oldest, highest priority). */
const QUEUE_WINDOW_PER_USER = 50;

/** One read of the fleet: devices online, the run parts holding their GPUs, cluster reservations. */
interface Snapshot {
  devices: DeviceRow[];
  live: LiveRunPartRow[];
  reservations: { clusterId: number; deviceId: number }[];
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

  /**
   * Runs `section` exclusively with a matcher bound to current capacity. `clusterId` (cluster
   * hook): match on that cluster's devices only; without it, reserved devices are not free.
   */
  exclusive<T>(section: (match: Match) => Promise<T>): Promise<T> {
    return this.mutex.run(() => section((ownerId, needs, clusterId) => this.match(ownerId, needs, clusterId ?? null)));
  }

  /** The devices `ownerId` may use, with what is free on them now (for matching and dry runs). */
  async candidatesFor(ownerId: number, clusterId: number | null = null): Promise<CandidateDevice[]> {
    return candidatesOf(ownerId, await this.snapshot(), clusterId);
  }

  /**
   * Assigns a stored run to its devices, all at once (gang): node i gets rank i + firstRank
   * (1 for training jobs; 0 for federated ones, whose server is rank 0) and waits QUEUED
   * for its agent to take it.
   */
  async assign(run: Pick<RunRow, "id">, placed: Pick<Placed, "nodes">, firstRank = 1): Promise<void> {
    const { db, hub } = this.deps;
    for (const [index, node] of placed.nodes.entries()) {
      await insertRunDevice(db, {
        run_id: run.id,
        device_id: Number(node.deviceId),
        rank: index + firstRank,
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
   * One pass over the waiting runs on one snapshot of the fleet, which each placement
   * updates in memory: first the runs waiting on clusters (CLUSTER_QUEUE, strictly in
   * submission order per cluster), then QUEUED runs in fair order (fair-queue.ts). Calls
   * that arrive while a pass waits for the lock share that pass: it has not read the store
   * yet, so it sees their changes.
   */
  placeQueued(): Promise<void> {
    this.nextPass ??= this.mutex.run(async () => {
      this.nextPass = undefined;
      const { db } = this.deps;
      const clusterRuns = await listClusterQueuedRuns(db);
      const heads = await listQueueHeads(db, QUEUE_WINDOW_PER_USER);
      if (heads.length === 0 && clusterRuns.length === 0) return;
      const snap = await this.snapshot();
      const credit = new Map<number, Standing>();
      const needsOf = async (run: RunRow): Promise<JobNeeds> => {
        if (!credit.has(run.owner_id)) credit.set(run.owner_id, await creditStanding(db, run.owner_id));
        const spec = decodeJobSpec(run.spec_json);
        return { ...jobNeeds(spec, run.resource_id, run.owner_id), credit: credit.get(run.owner_id) };
      };
      const decide = async (run: RunRow, result: MatchResult): Promise<Placed | null> => {
        if (result.kind === "placed") {
          await this.assign(run, result);
          return result;
        }
        if (result.reason !== run.reason) await updateRun(db, run.id, { reason: result.reason });
        return null;
      };
      const tryPlace = async (run: RunRow, clusterId: number | null): Promise<boolean> => {
        const placed = await decide(run, matchJob(await needsOf(run), candidatesOf(run.owner_id, snap, clusterId)));
        for (const node of placed?.nodes ?? []) {
          snap.live.push({ device_id: Number(node.deviceId), gpu_indices_json: JSON.stringify(node.gpuIndices) });
        }
        return placed !== null;
      };

      // Cluster hook: a cluster runs its jobs in submission order, so one that must wait
      // holds back every later one on the same cluster, even one that would fit.
      const waitingClusters = new Set<number>();
      for (const run of clusterRuns) {
        const clusterId = run.cluster_id ?? null;
        if (clusterId === null || waitingClusters.has(clusterId)) continue;
        if (!(await tryPlace(run, clusterId))) waitingClusters.add(clusterId);
      }
      const lastServed = await lastServedByOwner(
        db,
        heads.map((r) => r.owner_id),
      );
      // The queued runs, many per pass: one index over what the cluster runs left, each
      // placement taking its GPUs from it (what candidatesOf(owner, snap, null) would give).
      const index = new CandidateIndex(scopeCandidates(toCandidates(snap.devices, snap.live), snap.reservations, null));
      for (const run of fairOrder(heads, lastServed)) {
        const placed = await decide(run, matchIndexed(await needsOf(run), index));
        if (placed) index.take(placed.nodes);
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
    const reservations = (await listReservations(db)).map((r) => ({ clusterId: r.cluster_id, deviceId: r.device_id }));
    return { devices, live, reservations };
  }

  private async match(ownerId: number, needs: JobNeeds, clusterId: number | null): Promise<MatchResult> {
    return matchJob(needs, candidatesOf(ownerId, await this.snapshot(), clusterId));
  }
}

/**
 * The user's own devices and shared ones, with free capacity. Cluster hook: reserved
 * devices serve their cluster's runs only, and a cluster's runs only its devices.
 */
function candidatesOf(ownerId: number, snap: Snapshot, clusterId: number | null): CandidateDevice[] {
  const usable = snap.devices.filter((d) => d.owner_id === ownerId || d.shared === 1);
  return scopeCandidates(toCandidates(usable, snap.live), snap.reservations, clusterId);
}
