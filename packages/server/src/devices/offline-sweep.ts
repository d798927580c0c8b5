import type { ServerContext } from "../context.js";
import { deviceTokensTopic } from "../notify.js";
import { failParts } from "../runs/end-parts.js";
import { type HeardSpan, listSilentDevices, markDeviceOffline } from "../store/devices.js";
import { listLivePartsOnSilentDevices } from "../store/runs.js";
import { transition } from "../transition.js";

/** Last words that count as heard within `windowMs`, or null while the server is in its own grace. */
function heardSpan(ctx: ServerContext, windowMs: number): HeardSpan | null {
  const before = ctx.liveness.silentBefore(windowMs);
  return before === null ? null : { before, notAfter: ctx.now() + windowMs };
}

/**
 * Two steps, both judged only over spans the server itself was live for (liveness.ts):
 * devices silent for offlineAfterMs go OFFLINE (no new runs land there), and the parts of
 * devices silent for partLostAfterMs (the agent's lease, its kill grace and a margin) end
 * FAILED and retry. By then an agent that could not renew its lease has stopped them, so a
 * retried run never runs twice and a failed one is not still running.
 */
export async function sweepOfflineDevices(ctx: ServerContext): Promise<number> {
  const offline = heardSpan(ctx, ctx.options.offlineAfterMs);
  if (offline === null) return 0;
  // Heartbeats heard but not yet written would otherwise read as silence.
  await ctx.heartbeats.flush();
  let changed = 0;
  for (const device of await listSilentDevices(ctx.db, offline)) {
    if (await markDeviceOffline(ctx.db, device.id, offline)) {
      ctx.log.warn({ event: "device.offline", deviceId: device.id, lastSeenAt: device.last_seen_at }, "device offline");
      changed++;
    }
  }
  // The rows remembered with the devices' tokens say they are online: a poll from one of
  // them must see it OFFLINE, to bring it back at once (api/agent.ts).
  if (changed > 0) ctx.hub.notify(deviceTokensTopic);
  const lost = heardSpan(ctx, ctx.options.partLostAfterMs);
  if (lost !== null) {
    const parts = await listLivePartsOnSilentDevices(ctx.db, lost);
    const byDevice = new Map<number, typeof parts>();
    for (const part of parts) byDevice.set(part.device_id, [...(byDevice.get(part.device_id) ?? []), part]);
    for (const onDevice of byDevice.values()) {
      // One transaction per device: its lost parts (in run order, as their rows are locked)
      // end together or, if anything fails, not at all and are tried again next sweep.
      await transition(ctx, (tctx) => failParts(tctx, onDevice, `device ${onDevice[0].device_name} went offline`));
      changed++;
    }
  }
  if (changed > 0) ctx.placement.wake(ctx);
  return changed;
}
