import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { FedmlError, ResultCode } from "@fedml/core";
import type { FastifyPluginAsync } from "fastify";
import { assertAdmin, requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { toDeviceModel } from "../devices/device-view.js";
import { unbindDevice } from "../devices/unbind.js";
import { findDeviceById, listAllDevices, listOwnedDevices } from "../store/devices.js";
import { listUsers } from "../store/users.js";
import { parseRowId } from "../store/ids.js";
import { countRunsPerDevice, listLiveRunDevices } from "../store/runs.js";
import { DeviceIdParams, DeviceListQuerySchema, DeviceListSchema, RemovedSchema, authErrors } from "./schemas.js";

export function deviceRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    const preHandler = requireUser(ctx);

    app.get(
      "/devices",
      {
        preHandler,
        schema: { tags: ["devices"], querystring: DeviceListQuerySchema, response: { 200: DeviceListSchema, ...authErrors } },
      },
      async (request) => {
        const user = userOf(request);
        if (request.query.allUsers) assertAdmin(user);
        const devices = request.query.allUsers ? await listAllDevices(ctx.db) : await listOwnedDevices(ctx.db, user.id);
        const owners = request.query.allUsers ? new Map((await listUsers(ctx.db)).map((u) => [u.id, u.name])) : null;
        const ids = devices.map((d) => d.id);
        const live = await listLiveRunDevices(ctx.db, ids);
        const runCounts = await countRunsPerDevice(ctx.db, ids);
        return {
          deviceList: devices.map((d) => ({
            ...toDeviceModel(
              d,
              owners?.get(d.owner_id) ?? user.name,
              live.filter((p) => p.device_id === d.id).map((p) => p.run_id),
            ),
            runCount: runCounts.get(d.id) ?? 0,
          })),
        };
      },
    );

    app.delete(
      "/devices/:id",
      { preHandler, schema: { tags: ["devices"], params: DeviceIdParams, response: { 200: RemovedSchema, ...authErrors } } },
      async (request) => {
        const user = userOf(request);
        const id = parseRowId(request.params.id);
        const device = id !== undefined ? await findDeviceById(ctx.db, id) : undefined;
        if (!device || device.owner_id !== user.id || device.removed === 1) {
          throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `device ${request.params.id} not found`, 404);
        }
        await unbindDevice(ctx, device, "removed");
        return { removed: true, deviceId: String(device.id) };
      },
    );
  };
}
