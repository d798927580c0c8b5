import {
  type CandidateDevice,
  type JobNeeds,
  type MatchResult,
  type Placed,
  type PlacedNode,
  matchJob,
} from "../scheduler/matcher.js";

export type FederatedPick =
  | {
      kind: "placed";
      server: Placed;
      edges: Placed[];
      /** Server first, then the edges: one device each, priced as the matcher priced it. */
      nodes: PlacedNode[];
    }
  | { kind: "queued" | "no_resources" | "blocked"; reason: string };

/** The same devices with nothing running on them: what could fit some day. */
function allFree(candidates: readonly CandidateDevice[]): CandidateDevice[] {
  return candidates.map((c) => ({ ...c, freeGpuIndices: c.gpus.map((g) => g.index), freeSlots: c.maxJobs }));
}

/**
 * The matcher picks a server and edges for a federated job: one single-device match after
 * another over what is left, each device used once. Pure.
 *
 * Every federated node needs the job's whole `computing` on one device, while the matcher may
 * answer with a cheaper allocation spread over several devices (gang): then each device is
 * tried alone and the cheapest that holds the job wins (singleDevice).
 *
 * When too few devices are free now but enough could hold the job once their runs end, the
 * run waits (queued) like any other and the queue places the server and all edges together;
 * devices that could never hold it are refused with the reason.
 */
export function pickFederatedDevices(
  needs: JobNeeds,
  candidates: readonly CandidateDevice[],
  numEdges: number | null,
): FederatedPick {
  const now = pickNow(needs, candidates, numEdges);
  if (now.kind === "placed") return now;
  const ever = pickNow(needs, allFree(candidates), numEdges);
  if (ever.kind !== "placed") return ever;
  const wanted = numEdges === null ? 2 : numEdges + 1;
  return {
    kind: "queued",
    reason: `waiting for ${wanted} devices to be free at once for the federated server and its edges: ${now.reason}`,
  };
}

function pickNow(needs: JobNeeds, candidates: readonly CandidateDevice[], numEdges: number | null): FederatedPick {
  const wanted = numEdges === null ? Number.POSITIVE_INFINITY : numEdges + 1;
  let pool = [...candidates];
  const picks: Placed[] = [];
  let last: MatchResult | null = null;
  while (picks.length < wanted && pool.length > 0) {
    last = singleDevice(needs, pool);
    if (last.kind !== "placed") break;
    const deviceId = last.deviceId;
    picks.push(last);
    pool = pool.filter((d) => d.deviceId !== deviceId);
  }
  const enough = numEdges === null ? picks.length >= 2 : picks.length === wanted;
  if (enough) {
    return { kind: "placed", server: picks[0], edges: picks.slice(1), nodes: picks.map((p) => p.nodes[0]) };
  }
  if (picks.length === 0 && last && (last.kind === "blocked" || last.kind === "no_resources")) {
    return { kind: last.kind, reason: `no device for the federated server: ${last.reason}` };
  }
  const edgesWanted = numEdges === null ? "at least 1 edge" : `${numEdges} edge${numEdges === 1 ? "" : "s"}`;
  const why =
    last && last.kind !== "placed"
      ? `: ${last.reason}`
      : candidates.length < 2
        ? ": fewer than 2 devices are online for you"
        : "";
  return {
    kind: "no_resources",
    reason: `a federated job needs a server and ${edgesWanted} on distinct devices, and only ${picks.length} device${picks.length === 1 ? "" : "s"} fit now${why}`,
  };
}

/** The matcher's answer when it uses one device; else the cheapest device that fits alone. */
function singleDevice(needs: JobNeeds, pool: readonly CandidateDevice[]): MatchResult {
  const answer = matchJob(needs, pool);
  if (answer.kind !== "placed" || answer.nodes.length === 1) return answer;
  let best: Placed | null = null;
  for (const device of pool) {
    const alone = matchJob({ ...needs, resourceId: device.deviceId }, pool);
    if (alone.kind === "placed" && (best === null || alone.pricePerHour < best.pricePerHour)) best = alone;
  }
  return (
    best ?? {
      kind: "no_resources",
      reason: `no single device holds ${needs.minimumNumGpus} GPU${needs.minimumNumGpus === 1 ? "" : "s"} for one federated node`,
    }
  );
}
