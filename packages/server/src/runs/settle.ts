import type { ServerContext } from "../context.js";
import { settlePartCharge } from "../store/credit.js";
import { findDeviceById } from "../store/devices.js";
import { partCost } from "../billing/part-cost.js";
import { type RunDeviceRow, type RunRow, findRun, findRunDevice } from "../store/runs.js";

/**
 * Charges an ended part to the run's owner and pays the device's owner. The price stored on
 * the part is already what the run's owner pays (0 on their own devices). Call it in the
 * transaction that ends the part, so the part never ends uncharged.
 */
export async function settlePart(
  ctx: ServerContext,
  runId: number,
  deviceId: number,
  /** The part as this transaction just wrote it, when the caller has it (saves reading it again). */
  ended?: RunDeviceRow,
  /** The part's run, when the caller has it. */
  knownRun?: RunRow,
): Promise<void> {
  const part = ended ?? (await findRunDevice(ctx.db, runId, deviceId));
  if (!part || part.ended_at === null) return;
  const amountMicros = partCost(part, part.ended_at);
  // Nothing moves for a free part (the owner's own device): no need to read who pays whom.
  if (amountMicros <= 0) return;
  const run = knownRun ?? (await findRun(ctx.db, runId));
  const device = await findDeviceById(ctx.db, deviceId);
  if (!run || !device) return;
  await settlePartCharge(
    ctx.db,
    {
      runId,
      deviceId,
      payerId: run.owner_id,
      payeeId: device.owner_id,
      amountMicros,
      note: `run ${runId} on ${device.name}`,
    },
    ctx.now(),
  );
}
