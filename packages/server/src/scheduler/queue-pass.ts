/**
 * A queue pass's decision over the whole batch of waiting runs. Pure: placement.ts loads
 * what it reads (one read of the fleet, the waiting runs, their owners' credit) and applies
 * what it answers in one transaction.
 *
 * First the runs waiting on clusters (CLUSTER_QUEUE, strictly in submission order per
 * cluster), then QUEUED runs in fair order (fair-queue.ts), each placement taking its GPUs
 * from what later runs of the pass see.
 */
import { scopeCandidates } from "../clusters/scope.js";
import { pickFederatedDevices } from "../federate/pick.js";
import { numEdgesOf } from "../federate/num-edges.js";
import type { PlacementDeviceRow } from "../store/devices.js";
import { decodeJobSpec } from "../store/json-columns.js";
import type { WaitingRunRow } from "../store/runs.js";
import { type LiveRunPartRow, toCandidates } from "./capacity.js";
import { CandidateIndex } from "./candidate-index.js";
import { memoDecode } from "./decode-memo.js";
import { fairOrder } from "./fair-queue.js";
import { matchIndexed } from "./indexed-match.js";
import type { JobSpec } from "@fedml/core";
import { type CreditStanding, jobNeeds } from "./job-needs.js";
import { type CandidateDevice, type JobNeeds, type MatchResult, type PlacedNode, matchJob } from "./matcher.js";

/** One read of the fleet: devices online, the run parts holding their GPUs, cluster reservations. */
export interface Snapshot {
  devices: PlacementDeviceRow[];
  live: LiveRunPartRow[];
  reservations: { clusterId: number; deviceId: number }[];
}

/** Every pass reads the waiting runs' specs anew; a spec's text stays the same while it waits. */
const specOf = memoDecode(decodeJobSpec, 20_000);

/** Rank of a run's node 0: a federated run's server is rank 0, everyone else counts from 1. */
export const firstRankOf = (jobType: string) => (jobType === "federate" ? 0 : 1);

/**
 * The user's own devices and shared ones, with free capacity. Cluster hook: reserved
 * devices serve their cluster's runs only, and a cluster's runs only its devices.
 */
export function candidatesOf(ownerId: number, snap: Snapshot, clusterId: number | null): CandidateDevice[] {
  const usable = snap.devices.filter((d) => d.owner_id === ownerId || d.shared === 1);
  return scopeCandidates(toCandidates(usable, snap.live), snap.reservations, clusterId);
}

export interface QueuePassInput {
  /** CLUSTER_QUEUE runs, oldest first. */
  clusterRuns: readonly WaitingRunRow[];
  /** The heads of the users' QUEUED runs. */
  heads: readonly WaitingRunRow[];
  snapshot: Snapshot;
  /** Each owner's credit as the matcher checks it; absent: not checked. */
  credit: ReadonlyMap<number, CreditStanding>;
  /** When each owner last had a run placed (fair order). */
  lastServed: ReadonlyMap<number, number>;
  /**
   * The snapshot's online devices outside any cluster, indexed as candidatesOf(owner,
   * snapshot, null) gives them (fleet-cache.ts keeps one between passes): the pass takes
   * every placement's GPUs from it. Absent: the pass builds its own.
   */
  index?: CandidateIndex;
}

export interface PassPlacement {
  run: WaitingRunRow;
  nodes: readonly PlacedNode[];
  firstRank: number;
}

export interface QueuePassDecision {
  /** In the order decided; each took its GPUs from what the later ones saw. */
  placements: PassPlacement[];
  /** Runs that wait on with a reason other than the one stored. */
  reasons: { run: WaitingRunRow; reason: string }[];
}

/**
 * What the pass yields: a pause with the decision so far, or the end of a window of queue
 * heads (`windowDone`) after which the caller may hand in the next window (through `next`).
 */
export interface PassStep {
  decision: QueuePassDecision;
  windowDone?: true;
}

/**
 * Owners placed earlier in this pass count as served after everyone else: the turn order a
 * pass after this one would read from their placed_at.
 */
const SERVED_IN_THIS_PASS = Number.MAX_SAFE_INTEGER;

/** A decision on one waiting run: its nodes, or why it waits. */
type Verdict =
  | { kind: "placed"; nodes: readonly PlacedNode[] }
  | { kind: Exclude<MatchResult["kind"], "placed">; reason: string };

/**
 * The pass's decision, in steps of `runsPerStep` runs: it pauses (yields the decision so
 * far, whose lists only grow) between them, so that its caller can let other
 * work in and start writing them. A pass over 10,000 runs takes most of a second of CPU,
 * which in one go would stall every request the process serves meanwhile.
 *
 * A window of heads that placed runs while GPUs are still free may have left more that fit
 * behind it: then the pass yields `windowDone`, and the caller may answer with the heads as
 * they stand now (after this pass's placements), which are decided on the same view of the
 * fleet, instead of a new pass reading the whole fleet again. Heads that wait on are decided
 * again, as the next pass would; no answer ends the pass.
 */
export function* decideInSteps(
  input: QueuePassInput,
  runsPerStep = 500,
): Generator<PassStep, QueuePassDecision, readonly WaitingRunRow[] | undefined> {
  const { clusterRuns, heads } = input;
  // Placements change the view later runs get: the pass works on its own copies (of the parts
  // only once a run needs them listed: most passes place through the index alone).
  const snap: Snapshot = { ...input.snapshot };
  let ownLive = false;
  const credit = new Map([...input.credit].map(([owner, standing]) => [owner, { ...standing }]));
  const decision: QueuePassDecision = { placements: [], reasons: [] };
  // One needs object per owner and spec for the whole pass (most runs share a few specs): the
  // index keeps what it works out for a needs object (indexed-match.ts) by that object.
  const needsByOwner = new Map<number, Map<JobSpec, JobNeeds>>();
  const needsOf = (run: WaitingRunRow): JobNeeds => {
    const spec = specOf(run.spec_json);
    const fresh = () => ({ ...jobNeeds(spec, run.resource_id, run.owner_id), credit: credit.get(run.owner_id) });
    if (run.resource_id) return fresh();
    let bySpec = needsByOwner.get(run.owner_id);
    if (!bySpec) {
      bySpec = new Map();
      needsByOwner.set(run.owner_id, bySpec);
    }
    let needs = bySpec.get(spec);
    if (!needs) {
      needs = fresh();
      bySpec.set(spec, needs);
    }
    return needs;
  };
  // The nodes placed since snap.live was last brought up to date: only the plain matcher
  // (cluster and federated runs) reads it, the index takes its GPUs itself.
  const unlisted: PlacedNode[] = [];
  const current = (): Snapshot => {
    if (!ownLive && unlisted.length > 0) {
      snap.live = [...snap.live];
      ownLive = true;
    }
    for (const node of unlisted)
      snap.live.push({ device_id: Number(node.deviceId), gpu_indices_json: JSON.stringify(node.gpuIndices) });
    unlisted.length = 0;
    return snap;
  };
  /** Records one run's verdict; answers the nodes it took, or null when it waits on. */
  const record = (run: WaitingRunRow, verdict: Verdict): readonly PlacedNode[] | null => {
    if (verdict.kind === "placed") {
      const nodes = verdict.nodes;
      decision.placements.push({ run, nodes, firstRank: firstRankOf(run.job_type) });
      for (const node of nodes) unlisted.push(node);
      // Later runs of the same owner in this pass see this one's cost as committed.
      const standing = credit.get(run.owner_id);
      if (standing) {
        standing.committedMicrosPerHour =
          (standing.committedMicrosPerHour ?? 0) + nodes.reduce((sum, n) => sum + n.pricePerGpuHour * n.gpuIndices.length, 0);
      }
      return nodes;
    }
    if (verdict.reason !== run.reason) decision.reasons.push({ run, reason: verdict.reason });
    return null;
  };

  // Cluster hook: a cluster runs its jobs in submission order, so one that must wait holds
  // back every later one on the same cluster, even one that would fit.
  const waitingClusters = new Set<number>();
  let decided = 0;
  for (const run of clusterRuns) {
    if (++decided % runsPerStep === 0) yield { decision };
    const clusterId = run.cluster_id ?? null;
    if (clusterId === null || waitingClusters.has(clusterId)) continue;
    const nodes = record(run, matchJob(needsOf(run), candidatesOf(run.owner_id, current(), clusterId)));
    if (!nodes) waitingClusters.add(clusterId);
    // (Its devices are reserved: nothing of them is free in the index, but it holds every
    // placement of the pass, as its keeper expects.)
    else input.index?.take(nodes);
  }
  if (heads.length === 0) return decision;
  // The queued runs: one index over what the cluster runs left, each placement taking its
  // GPUs from it (what candidatesOf(owner, snap, null) would give), so a decision reads only
  // the devices it takes rather than the whole fleet.
  const index =
    input.index ?? new CandidateIndex(scopeCandidates(toCandidates(snap.devices, current().live), snap.reservations, null));
  const lastServed = new Map(input.lastServed);
  const placedIds = new Set<number>();
  for (let window: readonly WaitingRunRow[] | undefined = heads; window && window.length > 0; ) {
    const placedBefore = decision.placements.length;
    for (const run of fairOrder(window, lastServed)) {
      if (++decided % runsPerStep === 0) yield { decision };
      const needs = needsOf(run);
      // A federated run wants a server and edges on distinct devices: the matcher's federated
      // rules over the same view the index holds.
      const verdict =
        run.job_type === "federate"
          ? pickFederatedDevices(needs, candidatesOf(run.owner_id, current(), null), numEdgesOf(specOf(run.spec_json)))
          : matchIndexed(needs, index);
      const nodes = record(run, verdict);
      if (nodes) {
        placedIds.add(run.id);
        index.take(nodes);
        lastServed.set(run.owner_id, SERVED_IN_THIS_PASS);
      }
    }
    if (decision.placements.length === placedBefore || !index.hasRoomForGpuJobs()) break;
    // The store has this pass's placements by now; one read before them must not be placed twice.
    window = (yield { decision, windowDone: true })?.filter((run) => !placedIds.has(run.id));
  }
  return decision;
}
