import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyPluginAsync } from "fastify";
import { requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { stopRun } from "../runs/stop.js";
import { toEndpointModel } from "../serving/endpoint-view.js";
import { removeEndpointOfRun } from "../serving/lifecycle.js";
import { ownedEndpoint } from "../serving/owned-endpoint.js";
import { listReplicas } from "../store/endpoint-replicas.js";
import { findEndpoint, listLiveEndpoints } from "../store/endpoints.js";
import { DeleteEndpointResponseSchema, EndpointIdParams, EndpointListSchema, EndpointSchema, authErrors } from "./schemas.js";

/** `fedml endpoint list | status | delete`. */
export function endpointRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    const preHandler = requireUser(ctx);

    app.get(
      "/endpoints",
      { preHandler, schema: { tags: ["endpoints"], response: { 200: EndpointListSchema, ...authErrors } } },
      async (request) => {
        const rows = await listLiveEndpoints(ctx.db, userOf(request).id);
        const replicas = await listReplicas(
          ctx.db,
          rows.map((r) => r.id),
        );
        return { endpointList: rows.map((r) => toEndpointModel(r, ctx.publicUrl(), replicas, ctx.replicaLoad)) };
      },
    );

    app.get(
      "/endpoints/:id",
      {
        preHandler,
        schema: { tags: ["endpoints"], params: EndpointIdParams, response: { 200: EndpointSchema, ...authErrors } },
      },
      async (request) => {
        const endpoint = await ownedEndpoint(ctx, userOf(request).id, request.params.id);
        const replicas = await listReplicas(ctx.db, [endpoint.id], true);
        return toEndpointModel(endpoint, ctx.publicUrl(), replicas, ctx.replicaLoad);
      },
    );

    app.delete(
      "/endpoints/:id",
      {
        preHandler,
        schema: {
          tags: ["endpoints"],
          params: EndpointIdParams,
          response: { 200: DeleteEndpointResponseSchema, ...authErrors },
        },
      },
      async (request) => {
        const endpoint = await ownedEndpoint(ctx, userOf(request).id, request.params.id);
        await removeEndpointOfRun(ctx.db, endpoint.run_id, ctx.now());
        for (const replica of await listReplicas(ctx.db, [endpoint.id])) await stopRun(ctx, replica.run_id);
        const after = await findEndpoint(ctx.db, endpoint.id);
        return {
          deleted: after?.status === "REMOVED" || after?.status === "FAILED",
          endpointId: String(endpoint.id),
          runId: String(endpoint.run_id),
        };
      },
    );
  };
}
