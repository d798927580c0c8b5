/** A Slurm partition as one device: its GPUs, CPUs and memory, less what other jobs hold. Pure. */
import type { GpuInfo } from "@fedml/core/contract";
import { type SlurmJob, type SlurmNode, nodeUsable } from "./parse.js";

export interface ClusterShape {
  /** Nodes of the partition (all of them, usable or not: `fedml device list` shows each). */
  nodes: SlurmNode[];
  /** GPUs on usable nodes; those held by jobs other than ours are marked busyElsewhere. */
  gpus: GpuInfo[];
  /** The most GPUs of one usable node (how a big part is cut into nodes). */
  gpusPerNode: number;
  cpuCount: number;
  memoryBytes: number;
}

export function nodesOfPartition(nodes: SlurmNode[], partition: string | null): SlurmNode[] {
  return partition ? nodes.filter((n) => n.partitions.includes(partition)) : nodes;
}

/** `ourJobIds`: this agent's jobs, whose GPUs the server already counts as taken. */
export function clusterShape(
  nodes: SlurmNode[],
  partition: string | null,
  partitionJobs: SlurmJob[],
  ourJobIds: ReadonlySet<string>,
): ClusterShape {
  const mine = nodesOfPartition(nodes, partition);
  const usable = mine.filter(nodeUsable);
  const models: string[] = [];
  let gpusPerNode = 0;
  for (const node of usable) {
    const count = node.gpus.reduce((sum, g) => sum + g.count, 0);
    gpusPerNode = Math.max(gpusPerNode, count);
    for (const g of node.gpus) for (let i = 0; i < g.count; i++) models.push(g.type ? g.type.toUpperCase() : "GPU");
  }
  const usableNames = new Set(usable.map((n) => n.name));
  const heldByOthers = partitionJobs
    .filter((j) => !ourJobIds.has(j.jobId))
    .filter((j) => j.nodes === null || expandNodeNames(j.nodes).some((n) => usableNames.has(n)))
    .reduce((sum, j) => sum + j.gpusPerNode * Math.max(1, j.numNodes), 0);
  const free = Math.max(0, models.length - heldByOthers);
  return {
    nodes: mine,
    // The last ones are marked busy: the server counts them in the device but places nothing on them.
    gpus: models.map((name, index) => ({ index, name, memoryMiB: 0, ...(index >= free ? { busyElsewhere: true } : {}) })),
    gpusPerNode,
    cpuCount: usable.reduce((sum, n) => sum + n.cpus, 0),
    memoryBytes: usable.reduce((sum, n) => sum + n.memoryMb * 1024 * 1024, 0),
  };
}

/** `gpu[01-03,07],login1` -> gpu01 gpu02 gpu03 gpu07 login1 (Slurm's hostlist syntax). */
export function expandNodeNames(list: string): string[] {
  const out: string[] = [];
  for (const item of list.split(/,(?![^[]*\])/)) {
    const m = /^([^[]*)\[([^\]]+)\](.*)$/.exec(item);
    if (!m) {
      if (item !== "") out.push(item);
      continue;
    }
    for (const range of m[2].split(",")) {
      const [from, to] = range.split("-");
      if (to === undefined) {
        out.push(`${m[1]}${from}${m[3]}`);
        continue;
      }
      for (let i = Number(from); i <= Number(to); i++) out.push(`${m[1]}${String(i).padStart(from.length, "0")}${m[3]}`);
    }
  }
  return out;
}
