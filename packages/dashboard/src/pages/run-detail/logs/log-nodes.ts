/** One node of a run's log: a device's part, numbered lines 1..count. */
export interface LogNode {
  deviceId: string;
  name: string;
  rank: number;
  count: number;
}

/** Which lines the view shows: every node's, one after another in rank order, or one node's. */
export type LogView = "all" | { deviceId: string };

/** Lines in the view. Pure. */
export function viewLength(nodes: readonly LogNode[], view: LogView): number {
  if (view === "all") return nodes.reduce((n, node) => n + node.count, 0);
  return nodes.find((n) => n.deviceId === view.deviceId)?.count ?? 0;
}

/** The node and seq of the view's line `index` (0-based); undefined past the end. Pure. */
export function locate(nodes: readonly LogNode[], view: LogView, index: number): { node: LogNode; seq: number } | undefined {
  if (index < 0) return undefined;
  if (view !== "all") {
    const node = nodes.find((n) => n.deviceId === view.deviceId);
    return node && index < node.count ? { node, seq: index + 1 } : undefined;
  }
  let offset = 0;
  for (const node of nodes) {
    if (index < offset + node.count) return { node, seq: index - offset + 1 };
    offset += node.count;
  }
  return undefined;
}

/** The view's index of a node's line `seq`. Pure. */
export function indexOf(nodes: readonly LogNode[], view: LogView, deviceId: string, seq: number): number {
  if (view !== "all") return seq - 1;
  let offset = 0;
  for (const node of nodes) {
    if (node.deviceId === deviceId) return offset + seq - 1;
    offset += node.count;
  }
  return -1;
}

/** What "all nodes" puts before each line: `[rank 1 box-b] `. */
export const nodePrefix = (node: LogNode) => `[rank ${node.rank} ${node.name}] `;
