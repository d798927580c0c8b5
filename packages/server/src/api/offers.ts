import { MarketplacePaths, type OfferQuery, OfferListResponseSchema, OfferQuerySchema } from "@fedml/core";
import type { FastifyPluginAsync } from "fastify";
import { requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { toDeviceModel } from "../devices/device-view.js";
import { filterOffers } from "../devices/offers.js";
import { listUsableDevices } from "../store/devices.js";
import { listLiveRunDevices } from "../store/runs.js";
import { listUsers } from "../store/users.js";
import { authErrors } from "./schemas.js";

/** `fedml offers`: what a renter may run on, without writing a job YAML. */
export function offerRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: OfferQuery }>(
      MarketplacePaths.offers.replace(/^\/api\/v1/, ""),
      {
        preHandler: requireUser(ctx),
        schema: {
          tags: ["marketplace"],
          querystring: OfferQuerySchema,
          response: { 200: OfferListResponseSchema, ...authErrors },
        },
      },
      async (request) => {
        const devices = await listUsableDevices(ctx.db, userOf(request).id);
        const live = await listLiveRunDevices(
          ctx.db,
          devices.map((d) => d.id),
        );
        const owners = new Map((await listUsers(ctx.db)).map((u) => [u.id, u.name]));
        const isOnline = ctx.onlineTest();
        const models = devices
          .filter((d) => isOnline(d.last_seen_at))
          .map((d) =>
            toDeviceModel(
              d,
              owners.get(d.owner_id) ?? String(d.owner_id),
              live.filter((p) => p.device_id === d.id).map((p) => p.run_id),
            ),
          );
        return { offerList: filterOffers(models, request.query) };
      },
    );
  };
}
