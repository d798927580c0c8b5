import type { ServerContext } from "../context.js";
import { deviceTokensTopic } from "../notify.js";
import { failParts } from "../runs/end-parts.js";
import { type DeviceRow, removeDevice } from "../store/devices.js";
import { listLiveRunDevices } from "../store/runs.js";
import { transition } from "../transition.js";

/**
 * Unbinds a device (its agent unregistering, or its owner removing it), in one transaction:
 * the row stays (old runs name it) without its token, and its live parts fail. From the
 * commit on its token is refused, here and, once the notification reaches them, on the other
 * replicas (auth/device-tokens.ts).
 */
export async function unbindDevice(
  ctx: ServerContext,
  device: Pick<DeviceRow, "id" | "name">,
  how: "unbound" | "removed",
): Promise<void> {
  await transition(ctx, async (tctx) => {
    await removeDevice(tctx.db, device.id);
    const live = await listLiveRunDevices(tctx.db, [device.id]);
    if (live.length > 0) await failParts(tctx, live, `device ${device.name} was ${how}`);
    tctx.hub.notify(deviceTokensTopic);
  });
  ctx.log.info({ event: `device.${how}`, deviceId: device.id }, `device ${how}`);
  ctx.placement.wake(ctx);
}
