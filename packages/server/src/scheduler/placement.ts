import type { JobSpec } from "@fedml/core";
import { EdgeStatus, RunStatus } from "@fedml/core";
import type { Kysely } from "kysely";
import { deviceTopic, type NotifyHub, runTopic } from "../notify.js";
import { jobNeeds } from "../runs/needs.js";
import { bumpDeviceVersion, listUsableDevices } from "../store/devices.js";
import { type RunRow, insertRunDevice, listLiveRunDevices, listWaitingRuns, updateRun } from "../store/runs.js";
import { scopeCandidates } from "../clusters/scope.js";
import { listReservations } from "../store/clusters.js";
import type { Database } from "../store/schema.js";
import { toCandidates } from "./capacity.js";
import { type JobNeeds, type MatchResult, matchJob } from "./matcher.js";
import { Mutex } from "./mutex.js";

export interface PlacementDeps {
  db: Kysely<Database>;
  hub: NotifyHub;
  /** Whether a device last heard from at `lastSeenAt` counts as online (OFFLINE ones never do). */
  isOnline: (lastSeenAt: number | null) => boolean;
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
  exclusive<T>(
    section: (match: (ownerId: number, needs: JobNeeds, clusterId?: number | null) => Promise<MatchResult>) => Promise<T>,
  ): Promise<T> {
    return this.mutex.run(() => section((ownerId, needs, clusterId) => this.match(ownerId, needs, clusterId ?? null)));
  }

  /** Assigns a stored run to a device: its part waits QUEUED for the agent to take it. */
  async assign(
    run: Pick<RunRow, "id">,
    placed: Extract<MatchResult, { kind: "placed" }>,
    pricePerGpuHour: number,
  ): Promise<void> {
    const { db, hub } = this.deps;
    const deviceId = Number(placed.deviceId);
    await insertRunDevice(db, {
      run_id: run.id,
      device_id: deviceId,
      rank: 1,
      node_index: 0,
      status: EdgeStatus.QUEUED,
      gpu_indices_json: JSON.stringify(placed.gpuIndices),
      exit_code: null,
      reason: null,
      started_at: null,
      ended_at: null,
      log_count: 0,
      price_per_gpu_hour: pricePerGpuHour,
      stop_requested: 0,
    });
    await updateRun(db, run.id, { status: RunStatus.STARTING, reason: null });
    await bumpDeviceVersion(db, deviceId);
    hub.notify(deviceTopic(deviceId));
    hub.notify(runTopic(run.id));
  }

  /**
   * Places QUEUED and CLUSTER_QUEUE runs, oldest first. Calls that arrive while a pass waits
   * for the lock share that pass: it has not read the store yet, so it sees their changes.
   */
  placeQueued(): Promise<void> {
    this.nextPass ??= this.mutex.run(async () => {
      this.nextPass = undefined;
      const { db } = this.deps;
      // Cluster hook: a cluster runs its jobs in submission order, so one that must wait
      // holds back every later one on the same cluster, even one that would fit.
      const waitingClusters = new Set<number>();
      for (const run of await listWaitingRuns(db)) {
        const clusterId = run.cluster_id ?? null;
        if (clusterId !== null && waitingClusters.has(clusterId)) continue;
        const spec = JSON.parse(run.spec_json) as JobSpec;
        const result = await this.match(run.owner_id, jobNeeds(spec, run.resource_id), clusterId);
        if (result.kind === "placed") {
          await this.assign(run, result, await this.priceOf(result.deviceId));
          continue;
        }
        if (clusterId !== null) waitingClusters.add(clusterId);
        if (result.reason !== run.reason) await updateRun(db, run.id, { reason: result.reason });
      }
    });
    return this.nextPass;
  }

  async priceOf(deviceId: string): Promise<number> {
    const row = await this.deps.db
      .selectFrom("devices")
      .select("price_per_gpu_hour")
      .where("id", "=", Number(deviceId))
      .executeTakeFirst();
    return row?.price_per_gpu_hour ?? 0;
  }

  private async match(ownerId: number, needs: JobNeeds, clusterId: number | null): Promise<MatchResult> {
    const { db, isOnline } = this.deps;
    const devices = (await listUsableDevices(db, ownerId)).filter((d) => isOnline(d.last_seen_at));
    const live = await listLiveRunDevices(
      db,
      devices.map((d) => d.id),
    );
    // Cluster hook: reserved devices serve their cluster's runs only.
    const reservations = (await listReservations(db)).map((r) => ({ clusterId: r.cluster_id, deviceId: r.device_id }));
    return matchJob(needs, scopeCandidates(toCandidates(devices, live), reservations, clusterId));
  }
}
