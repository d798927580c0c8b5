import { FedmlError, type RegisterRequest, type RegisterResponse, ResultCode } from "@fedml/core";
import { hashSecret, newDeviceToken } from "../auth/keys.js";
import type { ServerContext } from "../context.js";
import { deviceTokensTopic } from "../notify.js";
import { findDeviceById, insertDevice, rebindDevice } from "../store/devices.js";
import type { UserRow } from "../store/users.js";
import { checkFacts } from "./reported-values.js";

/** Binds a machine to a user; re-binding one of the user's earlier devices keeps its id. */
export async function registerDevice(ctx: ServerContext, user: UserRow, request: RegisterRequest): Promise<RegisterResponse> {
  checkFacts(request.facts);
  const token = newDeviceToken();
  const now = ctx.now();
  const previousId = request.previousDeviceId ? Number(request.previousDeviceId) : Number.NaN;
  const previous = Number.isInteger(previousId) ? await findDeviceById(ctx.db, previousId) : undefined;
  if (previous && previous.owner_id === user.id) {
    await rebindDevice(ctx.db, previous.id, request.facts, hashSecret(token), now);
    // The old token no longer stands for it, though this or another replica remembers it did.
    ctx.hub.notify(deviceTokensTopic);
    ctx.log.info({ event: "device.online", deviceId: previous.id, rebound: true }, "device online");
    ctx.placement.wake(ctx);
    return { deviceId: String(previous.id), deviceToken: token };
  }
  if (!request.facts.name) {
    throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, "device facts need a name", 400);
  }
  const device = await insertDevice(ctx.db, user.id, request.facts, hashSecret(token), now);
  ctx.log.info({ event: "device.online", deviceId: device.id, name: device.name }, "device online");
  ctx.placement.wake(ctx);
  return { deviceId: String(device.id), deviceToken: token };
}
