import type { ServerContext } from "../context.js";
import { failParts } from "../runs/end-parts.js";
import { listSilentDevices, markDeviceOffline } from "../store/devices.js";
import { listLiveRunDevices } from "../store/runs.js";
import { transition } from "../transition.js";

/**
 * Devices silent for offlineAfterMs go OFFLINE and their unfinished runs fail. Silence is
 * counted from the server's start at the earliest, so agents get time to reconnect after
 * a server restart.
 */
export async function sweepOfflineDevices(ctx: ServerContext, serverStartedAt: number): Promise<number> {
  const silentSince = ctx.now() - ctx.options.offlineAfterMs;
  if (silentSince <= serverStartedAt) return 0;
  const silent = await listSilentDevices(ctx.db, silentSince);
  for (const device of silent) {
    // One transaction: a device marked OFFLINE is never swept again, so its runs must fail with it.
    await transition(ctx, async (tctx) => {
      await markDeviceOffline(tctx.db, device.id);
      tctx.log.warn({ event: "device.offline", deviceId: device.id, lastSeenAt: device.last_seen_at }, "device offline");
      const live = await listLiveRunDevices(tctx.db, [device.id]);
      if (live.length > 0) await failParts(tctx, live, `device ${device.name} went offline`);
    });
  }
  if (silent.length > 0) ctx.placement.wake();
  return silent.length;
}
