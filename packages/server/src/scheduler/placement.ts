import { EdgeStatus, RunStatus } from "@fedml/core";
import type { Kysely } from "kysely";
import { scopeCandidates } from "../clusters/scope.js";
import { pickFederatedDevices } from "../federate/pick.js";
import { numEdgesOf } from "../federate/num-edges.js";
import { deviceTopic, runTopic, schedulerTopic } from "../notify.js";
import { listReservations } from "../store/clusters.js";
import { creditStanding, type Standing } from "../billing/standing.js";
import { type DeviceRow, bumpDeviceVersion, listLiveDevices } from "../store/devices.js";
import {
  type RunRow,
  insertRunDevice,
  lastServedByOwner,
  listClusterQueuedRuns,
  listLiveRunDevices,
  listQueueHeads,
  updateRunIf,
} from "../store/runs.js";
import type { Database } from "../store/schema.js";
import { takePlacementLock } from "../store/transaction.js";
import { type Stateful, transition } from "../transition.js";
import { type LiveRunPartRow, toCandidates } from "./capacity.js";
import { CandidateIndex } from "./candidate-index.js";
import { fairOrder } from "./fair-queue.js";
import { matchIndexed } from "./indexed-match.js";
import { jobNeeds } from "./job-needs.js";
import { type CandidateDevice, type JobNeeds, type MatchResult, type PlacedNode, matchJob } from "./matcher.js";
import { decodeJobSpec } from "../store/json-columns.js";

export interface PlacementDeps extends Stateful {
  /** Whether a device last heard from at `lastSeenAt` counts as online (OFFLINE ones never do). */
  isOnline: (lastSeenAt: number | null) => boolean;
  now: () => number;
}

/** The matcher bound to current capacity, as `lock` hands it out (clusterId: the cluster hook). */
export type Match = (ownerId: number, needs: JobNeeds, clusterId?: number | null) => Promise<MatchResult>;

/** How many of each user's queued runs one pass looks at (their oldest, highest priority). */
const QUEUE_WINDOW_PER_USER = 50;

/** One read of the fleet: devices online, the run parts holding their GPUs, cluster reservations. */
interface Snapshot {
  devices: DeviceRow[];
  live: LiveRunPartRow[];
  reservations: { clusterId: number; deviceId: number }[];
}

/** A decision on one waiting run: its nodes, or why it waits. */
type Verdict =
  | { kind: "placed"; nodes: readonly PlacedNode[] }
  | { kind: Exclude<MatchResult["kind"], "placed">; reason: string };

/** The nodes of a placement, node 0 first: the part each device runs. */
export interface Assignment {
  nodes: readonly PlacedNode[];
  /** Rank of node 0: 1 for training jobs, 0 for federated ones (whose server is rank 0). */
  firstRank: number;
}

/** Rank of a run's node 0: a federated run's server is rank 0, everyone else counts from 1. */
export const firstRankOf = (jobType: string) => (jobType === "federate" ? 0 : 1);

/**
 * Decides where runs go. Every decision and the rows it writes happen in one transaction
 * holding the database's placement lock (store/transaction.ts), so that no two placements,
 * in this process or another sharing the database, take the same GPU.
 */
export class Placement {
  constructor(private readonly deps: PlacementDeps) {}

  /**
   * Asks the scheduler loops (every replica's, through the hub) for a queue pass; never waits
   * for it (requests must not). Inside a transition the wake-up waits for the commit, so the
   * pass sees what woke it.
   */
  wake(via: Pick<Stateful, "hub">): void {
    via.hub.notify(schedulerTopic);
  }

  /**
   * Takes the placement lock in the transaction `trx` (held until it ends) and answers the
   * matcher bound to capacity as that transaction sees it. `clusterId` (cluster hook): match
   * on that cluster's devices only; without it, reserved devices are not free.
   */
  async lock(trx: Kysely<Database>): Promise<Match> {
    await takePlacementLock(trx);
    return async (ownerId, needs, clusterId) =>
      matchJob(needs, candidatesOf(ownerId, await this.snapshot(trx), clusterId ?? null));
  }

  /** The devices `ownerId` may use, with what is free on them now (for matching and dry runs). */
  async candidatesFor(db: Kysely<Database>, ownerId: number, clusterId: number | null = null): Promise<CandidateDevice[]> {
    return candidatesOf(ownerId, await this.snapshot(db), clusterId);
  }

  /**
   * Assigns a stored, waiting run to its devices, all at once (gang): node i gets rank
   * i + firstRank and waits QUEUED for its agent to take it. Conditional on the run still
   * waiting: false when someone else got there first (then nothing is written). Call it
   * inside the placement transaction.
   */
  async assign(tx: Stateful, run: Pick<RunRow, "id">, placement: Assignment): Promise<boolean> {
    const { db, hub } = tx;
    const claimed = await updateRunIf(db, run.id, [RunStatus.QUEUED, RunStatus.CLUSTER_QUEUE], {
      status: RunStatus.STARTING,
      reason: null,
      placed_at: this.deps.now(),
    });
    if (!claimed) return false;
    for (const [index, node] of placement.nodes.entries()) {
      await insertRunDevice(db, {
        run_id: run.id,
        device_id: Number(node.deviceId),
        rank: index + placement.firstRank,
        node_index: index,
        status: EdgeStatus.QUEUED,
        gpu_indices_json: JSON.stringify(node.gpuIndices),
        exit_code: null,
        reason: null,
        started_at: null,
        ended_at: null,
        log_count: 0,
        price_per_gpu_hour_micros: node.pricePerGpuHour,
        stop_requested: 0,
      });
    }
    // In id order, as every change that bumps several devices does: two transactions never
    // wait on each other's device rows in opposite orders (a PostgreSQL deadlock).
    for (const deviceId of placement.nodes.map((n) => Number(n.deviceId)).sort((a, b) => a - b)) {
      await bumpDeviceVersion(db, deviceId);
      hub.notify(deviceTopic(deviceId));
    }
    hub.notify(runTopic(run.id));
    tx.log.info({ event: "run.placed", runId: run.id, deviceIds: placement.nodes.map((n) => Number(n.deviceId)) }, "run placed");
    return true;
  }

  /**
   * One pass over the waiting runs on one snapshot of the fleet, which each placement
   * updates in memory, all in one transaction under the placement lock: first the runs
   * waiting on clusters (CLUSTER_QUEUE, strictly in submission order per cluster), then
   * QUEUED runs in fair order (fair-queue.ts). Answers how many runs it placed.
   */
  placeQueued(): Promise<number> {
    return transition(this.deps, async (tx) => {
      const { db } = tx;
      await takePlacementLock(db);
      const clusterRuns = await listClusterQueuedRuns(db);
      const heads = await listQueueHeads(db, QUEUE_WINDOW_PER_USER);
      if (heads.length === 0 && clusterRuns.length === 0) return 0;
      const snap = await this.snapshot(db);
      const credit = new Map<number, Standing>();
      const needsOf = async (run: RunRow): Promise<JobNeeds> => {
        if (!credit.has(run.owner_id)) credit.set(run.owner_id, await creditStanding(db, run.owner_id));
        const spec = decodeJobSpec(run.spec_json);
        return { ...jobNeeds(spec, run.resource_id, run.owner_id), credit: credit.get(run.owner_id) };
      };
      let placed = 0;
      /** Applies one run's decision; answers the nodes it took, or null when it waits on. */
      const apply = async (run: RunRow, result: Verdict): Promise<readonly PlacedNode[] | null> => {
        if (result.kind === "placed") {
          if (!(await this.assign(tx, run, { nodes: result.nodes, firstRank: firstRankOf(run.job_type) }))) return null;
          snap.live.push(
            ...result.nodes.map((node) => ({
              device_id: Number(node.deviceId),
              gpu_indices_json: JSON.stringify(node.gpuIndices),
            })),
          );
          placed++;
          // Later runs of the same owner in this pass see this one's cost as committed.
          const standing = credit.get(run.owner_id);
          if (standing) {
            standing.committedMicrosPerHour += result.nodes.reduce((sum, n) => sum + n.pricePerGpuHour * n.gpuIndices.length, 0);
          }
          return result.nodes;
        }
        if (result.reason !== run.reason) await updateRunIf(db, run.id, [run.status], { reason: result.reason });
        return null;
      };

      // Cluster hook: a cluster runs its jobs in submission order, so one that must wait
      // holds back every later one on the same cluster, even one that would fit.
      const waitingClusters = new Set<number>();
      for (const run of clusterRuns) {
        const clusterId = run.cluster_id ?? null;
        if (clusterId === null || waitingClusters.has(clusterId)) continue;
        const verdict = matchJob(await needsOf(run), candidatesOf(run.owner_id, snap, clusterId));
        if (!(await apply(run, verdict))) waitingClusters.add(clusterId);
      }
      const lastServed = await lastServedByOwner(
        db,
        heads.map((r) => r.owner_id),
      );
      // The queued runs, many per pass: one index over what the cluster runs left, each
      // placement taking its GPUs from it (what candidatesOf(owner, snap, null) would give).
      const index = new CandidateIndex(scopeCandidates(toCandidates(snap.devices, snap.live), snap.reservations, null));
      for (const run of fairOrder(heads, lastServed)) {
        const needs = await needsOf(run);
        // A federated run wants a server and edges on distinct devices: the matcher's
        // federated rules over the same view the index holds.
        const verdict =
          run.job_type === "federate"
            ? pickFederatedDevices(needs, candidatesOf(run.owner_id, snap, null), numEdgesOf(decodeJobSpec(run.spec_json)))
            : matchIndexed(needs, index);
        const nodes = await apply(run, verdict);
        if (nodes) index.take(nodes);
      }
      return placed;
    });
  }

  private async snapshot(db: Kysely<Database>): Promise<Snapshot> {
    const { isOnline } = this.deps;
    const devices = (await listLiveDevices(db)).filter((d) => isOnline(d.last_seen_at));
    const live = await listLiveRunDevices(
      db,
      devices.map((d) => d.id),
    );
    const reservations = (await listReservations(db)).map((r) => ({ clusterId: r.cluster_id, deviceId: r.device_id }));
    return { devices, live, reservations };
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
