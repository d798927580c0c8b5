import { searchLog } from "../../../api/runs.js";
import type { LogNode } from "./log-nodes.js";

/**
 * The next line containing `text` going `direction` from (node, seq), through the nodes in
 * order: the rest of this node, then the following (or preceding) nodes whole. Undefined when
 * there is none.
 */
export async function findNext(
  runId: string,
  nodes: readonly LogNode[],
  text: string,
  from: { deviceId: string; seq: number },
  direction: "next" | "previous",
): Promise<{ deviceId: string; seq: number } | undefined> {
  const start = Math.max(
    0,
    nodes.findIndex((n) => n.deviceId === from.deviceId),
  );
  const step = direction === "next" ? 1 : -1;
  for (let i = start; i >= 0 && i < nodes.length; i += step) {
    const node = nodes[i];
    const here = i === start;
    const query =
      direction === "next"
        ? { deviceId: node.deviceId, text, afterSeq: here ? from.seq : 0 }
        : { deviceId: node.deviceId, text, beforeSeq: here ? from.seq : node.count + 1 };
    const { seq } = await searchLog(runId, query);
    if (seq !== null) return { deviceId: node.deviceId, seq };
  }
  return undefined;
}
