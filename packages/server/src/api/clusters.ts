import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { ClusterAction, ClusterStatusResult, FedMLClusterModelList } from "@fedml/core";
import type { FastifyPluginAsync } from "fastify";
import { requireUser, userOf } from "../auth/guard.js";
import { actOnClusters, namedClusters, setAutostop } from "../clusters/actions.js";
import { pickCluster } from "../clusters/lifecycle.js";
import { toClusterModels } from "../clusters/view.js";
import type { ServerContext } from "../context.js";
import { ClusterState, listOwnerClusters } from "../store/clusters.js";
import {
  ClusterActionRequestSchema,
  ClusterActionResponseSchema,
  ClusterAutostopRequestSchema as AutostopRequestSchema,
  ClusterListQuerySchema,
  ClusterListSchema,
  ClusterNameParams,
  ClusterSchema,
  ClusterStatusSchema,
  ErrorBodySchema,
  authErrors,
} from "./schemas.js";

const errors = { ...authErrors, 409: ErrorBodySchema };

const splitNames = (names: string | undefined) =>
  (names ?? "")
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n.length > 0);

export function clusterRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    const preHandler = requireUser(ctx);

    // Without names: the caller's live clusters. With names: those, a killed one as TERMINATED.
    app.get(
      "/clusters",
      {
        preHandler,
        schema: { tags: ["clusters"], querystring: ClusterListQuerySchema, response: { 200: ClusterListSchema, ...errors } },
      },
      async (request): Promise<FedMLClusterModelList> => {
        const names = splitNames(request.query.names);
        const rows = await listOwnerClusters(ctx.db, userOf(request).id, names.length > 0 ? names : undefined);
        const picked =
          names.length > 0
            ? names.map((n) => pickCluster(rows, n)).filter((r) => r !== undefined)
            : rows.filter((r) => r.state !== ClusterState.TERMINATED).reverse();
        return { clusterList: await toClusterModels(ctx, [...new Set(picked)]) };
      },
    );

    app.get(
      "/clusters/:name",
      {
        preHandler,
        schema: { tags: ["clusters"], params: ClusterNameParams, response: { 200: ClusterStatusSchema, ...errors } },
      },
      async (request): Promise<ClusterStatusResult> => {
        const rows = await namedClusters(ctx, userOf(request).id, [request.params.name]);
        const clusterList = await toClusterModels(ctx, rows);
        return { status: clusterList[0]?.status ?? null, clusterList: { clusterList } };
      },
    );

    for (const action of ["start", "stop", "kill"] as ClusterAction[]) {
      app.post(
        `/clusters/${action}`,
        {
          preHandler,
          schema: {
            tags: ["clusters"],
            body: ClusterActionRequestSchema,
            response: { 200: ClusterActionResponseSchema, ...errors },
          },
        },
        async (request) => actOnClusters(ctx, userOf(request), action, request.body ?? {}),
      );
    }

    app.put(
      "/clusters/:name/autostop",
      {
        preHandler,
        schema: {
          tags: ["clusters"],
          params: ClusterNameParams,
          body: AutostopRequestSchema,
          response: { 200: ClusterSchema, ...errors },
        },
      },
      async (request) => {
        const row = await setAutostop(ctx, userOf(request), request.params.name, request.body.idleMinutes);
        return (await toClusterModels(ctx, [row]))[0];
      },
    );
  };
}
