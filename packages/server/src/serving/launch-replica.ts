/**
 * One more replica for an endpoint: a copy of the endpoint's current run, stored QUEUED and
 * placed by the queue like any run. It is pinned to a device that fits and holds no replica of
 * the endpoint yet, of a provider that holds none either when there is one (spread across
 * devices and providers); else the queue picks.
 */
import { type JobSpec, RunStatus } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { jobNeeds } from "../scheduler/job-needs.js";
import { type CandidateDevice, matchJob } from "../scheduler/matcher.js";
import { insertReplica, listReplicas } from "../store/endpoint-replicas.js";
import type { EndpointRow } from "../store/endpoints.js";
import { decodeJobSpec } from "../store/json-columns.js";
import { findRun, insertRun, listRunDevices } from "../store/runs.js";
import { transition } from "../transition.js";

/** Where an endpoint's live replicas run: their devices, and those devices' providers. */
export interface ReplicaSpread {
  devices: ReadonlySet<string>;
  providers: ReadonlySet<string>;
}

/**
 * The cheapest device that holds the whole job alone and runs no replica yet: first among
 * devices of a provider that runs none either (a provider's outage then takes fewer
 * replicas down), else among any such device. Pure.
 */
export function spreadDevice(
  spec: JobSpec,
  ownerId: number,
  candidates: readonly CandidateDevice[],
  used: ReplicaSpread,
): string | null {
  const fresh = candidates.filter((d) => !used.devices.has(d.deviceId));
  const elsewhere = fresh.filter((d) => !used.providers.has(d.provider ?? ""));
  for (const pool of [elsewhere, fresh]) {
    if (pool.length === 0) continue;
    const answer = matchJob(jobNeeds(spec, null, ownerId), pool);
    if (answer.kind === "placed" && answer.nodes.length === 1) return answer.nodes[0].deviceId;
  }
  return null;
}

/** Adds replicas of the endpoint's current generation up to `desired`; answers how many it added. */
export async function launchReplicas(ctx: ServerContext, endpoint: EndpointRow, desired: number): Promise<number> {
  const added = await transition(ctx, async (tctx) => {
    const { db } = tctx;
    // Counted again under the placement lock: two passes (or two server processes) must not
    // both add the missing replica.
    await ctx.placement.lock(db);
    const replicas = await listReplicas(db, [endpoint.id]);
    const current = replicas.filter((r) => r.generation === endpoint.generation && r.retired_at === null);
    const missing = desired - current.length;
    const template = await findRun(db, endpoint.run_id);
    if (missing <= 0 || !template) return 0;
    const spec = decodeJobSpec(template.spec_json);
    const parts = await listRunDevices(
      db,
      replicas.map((r) => r.run_id),
    );
    const candidates = await ctx.placement.candidatesFor(db, endpoint.owner_id);
    const providerOf = new Map(candidates.map((d) => [d.deviceId, d.provider ?? ""]));
    const devices = new Set(parts.filter((p) => p.ended_at === null).map((p) => String(p.device_id)));
    const providers = new Set([...devices].map((d) => providerOf.get(d) ?? ""));
    for (let i = 0; i < missing; i++) {
      const pinned = template.resource_id ?? spreadDevice(spec, endpoint.owner_id, candidates, { devices, providers });
      if (pinned !== null) {
        devices.add(pinned);
        providers.add(providerOf.get(pinned) ?? "");
      }
      const now = tctx.now();
      const { id: _id, ...copy } = template;
      const run = await insertRun(db, {
        ...copy,
        status: RunStatus.QUEUED,
        reason: `replica of endpoint ${endpoint.id}`,
        resource_id: pinned,
        exit_code: null,
        created_at: now,
        started_at: null,
        ended_at: null,
        stop_requested: 0,
        // The endpoint replaces a lost replica itself.
        retries_left: 0,
        retry_of: null,
        placed_at: null,
      });
      await insertReplica(db, {
        endpoint_id: endpoint.id,
        run_id: run.id,
        generation: endpoint.generation,
        ready: 0,
        created_at: now,
      });
      tctx.log.info(
        { event: "endpoint.replica_added", endpointId: endpoint.id, runId: run.id, deviceId: pinned },
        "endpoint replica added",
      );
    }
    return missing;
  });
  if (added > 0) ctx.placement.wake(ctx);
  return added;
}
