/** How many nodes and GPUs per node a run part asks Slurm for. Pure. */

export interface Allocation {
  nodes: number;
  /** --gres=gpu:N on each node; 0: no --gres. */
  gpusPerNode: number;
}

/**
 * `gpus` for the part, on nodes of `gpusPerNode` GPUs each: a part that fits one node takes
 * one; a bigger one takes whole nodes, as few as hold it (16 GPUs on 4-GPU nodes: 4 nodes).
 */
export function allocationFor(gpus: number, gpusPerNode: number): Allocation {
  if (gpus <= 0) return { nodes: 1, gpusPerNode: 0 };
  if (gpusPerNode <= 0 || gpus <= gpusPerNode) return { nodes: 1, gpusPerNode: gpus };
  const nodes = Math.ceil(gpus / gpusPerNode);
  return { nodes, gpusPerNode: Math.ceil(gpus / nodes) };
}
