import type { ServerContext } from "../context.js";
import { parseIndices } from "../scheduler/capacity.js";
import { settlePartCharge } from "../store/credit.js";
import { findDeviceById } from "../store/devices.js";
import { type RunDeviceRow, findRun, findRunDevice } from "../store/runs.js";

const HOUR_MS = 3_600_000;

/** A part's cost: its price x its GPUs x the hours it ran. Pure. */
export function partCost(
  part: Pick<RunDeviceRow, "price_per_gpu_hour" | "gpu_indices_json" | "started_at" | "ended_at">,
  now: number,
): number {
  if (part.started_at === null || part.price_per_gpu_hour <= 0) return 0;
  const hours = Math.max(0, (part.ended_at ?? now) - part.started_at) / HOUR_MS;
  return part.price_per_gpu_hour * parseIndices(part.gpu_indices_json).length * hours;
}

/**
 * Charges an ended part to the run's owner and pays the device's owner. The price stored on
 * the part is already what the run's owner pays (0 on their own devices). Call it in the
 * transaction that ends the part, so the part never ends uncharged.
 */
export async function settlePart(ctx: ServerContext, runId: number, deviceId: number): Promise<void> {
  const part = await findRunDevice(ctx.db, runId, deviceId);
  const run = await findRun(ctx.db, runId);
  const device = await findDeviceById(ctx.db, deviceId);
  if (!part || !run || !device || part.ended_at === null) return;
  const amount = partCost(part, part.ended_at);
  await settlePartCharge(
    ctx.db,
    {
      runId,
      deviceId,
      payerId: run.owner_id,
      payeeId: device.owner_id,
      amount,
      note: `run ${runId} on ${device.name}`,
    },
    ctx.now(),
  );
}
