import type { ServerContext } from "../context.js";
import { failParts } from "../runs/end-parts.js";
import { listSilentDevices, markDeviceOffline } from "../store/devices.js";
import { listLiveRunDevices } from "../store/runs.js";

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
    await markDeviceOffline(ctx.db, device.id);
    ctx.log.warn({ event: "device.offline", deviceId: device.id, lastSeenAt: device.last_seen_at }, "device offline");
    const live = await listLiveRunDevices(ctx.db, [device.id]);
    if (live.length > 0) await failParts(ctx, live, `device ${device.name} went offline`);
  }
  if (silent.length > 0) ctx.placement.wake();
  return silent.length;
}
