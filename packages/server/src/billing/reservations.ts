/**
 * Holds of active clusters on other owners' paid devices, kept in step with the clusters by
 * the background tick (so the cluster code needs no billing calls): a hold opens when an
 * active cluster is seen holding such a device and ends, charged, once it no longer does.
 *
 * A hold bills the whole device, every GPU, for every hour it is held, running or idle. Runs
 * of the cluster on the device are charged per part as usual; the hold's charge is the rest
 * (whole device minus those parts), so the cluster's owner pays exactly the whole device.
 */
import type { ServerContext } from "../context.js";
import { partCost } from "./part-cost.js";
import { parseGpus } from "../scheduler/capacity.js";
import { chargeHold } from "../store/credit.js";
import { insertReservation, listForeignHoldings, listOpenReservations, type ReservationRow } from "../store/reservations.js";
import { listClusterPartsOn } from "../store/runs.js";
import { holdCost } from "./commitments.js";

const key = (clusterId: number, deviceId: number) => `${clusterId}:${deviceId}`;

/** What the parts of the hold's cluster on its device were (or will be) charged, from the hold's start. */
export async function chargedThroughParts(ctx: ServerContext, hold: ReservationRow, now: number): Promise<number> {
  const parts = await listClusterPartsOn(ctx.db, hold.cluster_id, hold.device_id, hold.started_at);
  return parts.reduce((sum, p) => sum + partCost(p, now), 0);
}

/** Opens and ends holds to match what active clusters hold now; answers how many changed. */
export async function reconcileReservations(ctx: ServerContext): Promise<number> {
  const now = ctx.now();
  const holdings = await listForeignHoldings(ctx.db);
  const open = await listOpenReservations(ctx.db);
  const openKeys = new Set(open.map((h) => key(h.cluster_id, h.device_id)));
  const heldKeys = new Set(holdings.map((h) => key(h.cluster_id, h.device_id)));
  let changed = 0;
  for (const h of holdings) {
    if (openKeys.has(key(h.cluster_id, h.device_id))) continue;
    await insertReservation(ctx.db, {
      cluster_id: h.cluster_id,
      device_id: h.device_id,
      payer_id: h.payer_id,
      payee_id: h.payee_id,
      price_per_gpu_hour_micros: h.price_per_gpu_hour_micros,
      gpu_count: parseGpus(h.gpus_json).length,
      started_at: now,
      ended_at: null,
    });
    changed++;
  }
  for (const hold of open) {
    if (heldKeys.has(key(hold.cluster_id, hold.device_id))) continue;
    const rest = Math.max(0, holdCost(hold, now) - (await chargedThroughParts(ctx, hold, now)));
    if (await chargeHold(ctx.db, hold, rest, now)) changed++;
  }
  return changed;
}
