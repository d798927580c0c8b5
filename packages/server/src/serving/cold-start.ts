/**
 * A request to an endpoint scaled to zero: it asks for one replica and waits, bounded, for a
 * replica to answer its probe.
 */
import { setTimeout as delay } from "node:timers/promises";
import { EndpointStatus, FedmlError, ResultCode } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { type ReplicaRow, listReplicas } from "../store/endpoint-replicas.js";
import { type EndpointRow, findEndpoint } from "../store/endpoints.js";
import { reconcileServing } from "./controller.js";
import { routableReplicas } from "./pick-replica.js";

export const COLD_START_WAIT_MS = 120_000;
const POLL_MS = 100;

export async function awaitColdStart(
  ctx: ServerContext,
  endpoint: EndpointRow,
): Promise<{ endpoint: EndpointRow; replicas: ReplicaRow[] }> {
  const now = ctx.now();
  await ctx.db
    .updateTable("endpoints")
    .set({ desired_replicas: 1, busy_at: now })
    .where("id", "=", endpoint.id)
    .where("desired_replicas", "=", 0)
    .where("status", "in", [EndpointStatus.DEPLOYING, EndpointStatus.READY])
    .execute();
  await reconcileServing(ctx);
  const deadline = Date.now() + COLD_START_WAIT_MS;
  for (;;) {
    const fresh = await findEndpoint(ctx.db, endpoint.id);
    const replicas = await listReplicas(ctx.db, [endpoint.id]);
    if (!fresh || fresh.status === EndpointStatus.REMOVED || fresh.status === EndpointStatus.FAILED) {
      throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `endpoint ${endpoint.id} ended while starting a replica`, 404);
    }
    if (routableReplicas(replicas).length > 0 || Date.now() >= deadline) return { endpoint: fresh, replicas };
    await delay(POLL_MS);
  }
}
