/**
 * One inference request: pick a ready replica (least outstanding requests), send it down that
 * replica's agent tunnel (or hand it to the server process holding that tunnel:
 * tunnel-peers.ts), and try once more on another replica when nothing was sent (no tunnel,
 * or the job's port refused the connection) and the request can be repeated.
 */
import type { ServerResponse } from "node:http";
import { ResultCode } from "@fedml/core";
import { errorBody } from "../api/errors.js";
import type { ServerContext } from "../context.js";
import { type ReplicaRow, listReplicas } from "../store/endpoint-replicas.js";
import type { EndpointRow } from "../store/endpoints.js";
import { pickReplica, routableReplicas } from "./pick-replica.js";
import { NO_TUNNEL_HEADER, forwardToPeer, pinnedRun } from "./tunnel-peers.js";
import { type ProxiedRequest, type TunnelOutcome, forwardThroughTunnel } from "./tunnel-proxy.js";

/** How long a request waits for a replica's tunnel when no ready replica has one open. */
const TUNNEL_WAIT_MS = 5_000;
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

let turn = 0;

function answerError(reply: ServerResponse, status: number, message: string, noTunnel = false): void {
  if (reply.headersSent) {
    reply.destroy();
    return;
  }
  reply.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    ...(noTunnel ? { [NO_TUNNEL_HEADER]: "1" } : {}),
  });
  reply.end(JSON.stringify(errorBody(ResultCode.ERROR, message)));
}

/** Answers whether the caller got the job's answer (false: an error of the proxy's own). */
export async function routeInference(
  ctx: ServerContext,
  endpoint: EndpointRow,
  replicas: ReplicaRow[],
  request: ProxiedRequest,
  reply: ServerResponse,
): Promise<boolean> {
  const load = ctx.replicaLoad;
  const repeatable = IDEMPOTENT.has(request.method) && request.body === undefined;
  const tried = new Set<number>();
  // Handed over by a peer (tunnel-peers.ts): that replica only, through this process's tunnel only.
  const pinned = pinnedRun(request.headers);
  let candidates = routableReplicas(replicas).filter((r) => pinned === null || r.run_id === pinned);
  for (let attempt = 0; attempt < (pinned === null ? 2 : 1); attempt++) {
    const left = candidates.filter((r) => !tried.has(r.run_id));
    // Replicas whose agent has its tunnel open first: no waiting while another one can answer.
    const open = left.filter((r) => r.device_id !== null && ctx.tunnels.sessionOf(r.device_id));
    const replica = pickReplica(open.length > 0 ? open : left, (runId) => load.ofReplica(runId).inflight, turn++);
    if (!replica || replica.device_id === null) break;
    tried.add(replica.run_id);
    const target = { runId: replica.run_id, endpointId: endpoint.id };
    const session = ctx.tunnels.sessionOf(replica.device_id);
    const peer = session || pinned !== null ? undefined : await ctx.tunnelPeers?.peerHolding(replica.device_id);
    load.beginReplica(replica.run_id);
    let outcome: TunnelOutcome | "no-tunnel";
    if (session) outcome = await forwardThroughTunnel(session, target, request, reply);
    else if (peer) outcome = await forwardToPeer(peer, target, request, reply);
    else {
      // No tunnel anywhere yet (an agent reconnecting): wait for it here, a while.
      const late = pinned === null ? await ctx.tunnels.sessionWithin(replica.device_id, TUNNEL_WAIT_MS) : undefined;
      outcome = late ? await forwardThroughTunnel(late, target, request, reply) : "no-tunnel";
    }
    load.endReplica(replica.run_id, outcome === "answered");
    if (outcome === "no-tunnel") {
      if (pinned !== null) {
        answerError(reply, 503, `endpoint ${endpoint.id}: this server holds no tunnel to run ${pinned}'s device`, true);
        return false;
      }
      // Nothing was sent: any request may go to another replica.
      candidates = routableReplicas(await listReplicas(ctx.db, [endpoint.id]));
      continue;
    }
    if (outcome === "answered") return true;
    if (!repeatable) break;
    candidates = routableReplicas(await listReplicas(ctx.db, [endpoint.id]));
  }
  const why =
    tried.size === 0
      ? "no replica is ready"
      : `no replica answered (tried ${tried.size}: ${[...tried].map((id) => `run ${id}`).join(", ")})`;
  answerError(reply, tried.size === 0 ? 503 : 502, `endpoint ${endpoint.id}: ${why}`);
  return false;
}
