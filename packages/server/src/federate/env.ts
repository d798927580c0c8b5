import { type CommandSpec, JobEnv, type JobSpec } from "@fedml/core";

/**
 * What a federated node gets on top of the common job environment: its rank (server 0, edges
 * 1..N), its role, the number of edges, and the FL server's `host:port` (the address the
 * server's agent advertises, see the agent's --address, and FEDML_NODE_0_PORT). Pure.
 */
export function federatedEnv(base: Record<string, string>, rank: number, numNodes: number): Record<string, string> {
  const addr = base[JobEnv.NODE_0_ADDR] ?? "127.0.0.1";
  const port = base[JobEnv.NODE_0_PORT] ?? "";
  const host = addr.includes(":") && !addr.startsWith("[") ? `[${addr}]` : addr;
  return {
    ...base,
    [JobEnv.CLIENT_RANK]: String(rank),
    [JobEnv.ROLE]: rank === 0 ? "server" : "edge",
    [JobEnv.NUM_EDGES]: String(Math.max(0, numNodes - 1)),
    [JobEnv.FL_SERVER_ADDR]: `${host}:${port}`,
  };
}

/** The server node (rank 0) runs `server_job`; edges run `job`. */
export function federatedCommand(spec: Pick<JobSpec, "job" | "serverJob">, rank: number): CommandSpec | null {
  return rank === 0 ? spec.serverJob : spec.job;
}
