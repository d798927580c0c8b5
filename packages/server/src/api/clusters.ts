import {
  type ClusterAction,
  type ClusterActionRequest,
  type ClusterAutostopRequest,
  type ClusterListQuery,
  type ClusterStatusResult,
  CLUSTER_NAME_PATTERN,
  type FedMLClusterModelList,
} from "@fedml/core";
import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { requireUser, userOf } from "../auth/guard.js";
import { actOnClusters, namedClusters, setAutostop } from "../clusters/actions.js";
import { pickCluster } from "../clusters/lifecycle.js";
import { toClusterModels } from "../clusters/view.js";
import type { ServerContext } from "../context.js";
import { ClusterState, listOwnerClusters } from "../store/clusters.js";
import { ErrorBodySchema, authErrors } from "./schemas.js";

const Nullable = <T extends ReturnType<typeof Type.String>>(s: T) => Type.Union([s, Type.Null()]);
const ClusterSchema = Type.Object({
  clusterName: Type.String(),
  clusterId: Type.String(),
  status: Type.String(),
  deviceIds: Type.Optional(Type.Array(Type.String())),
  idleMinutes: Type.Optional(Type.Number()),
  liveRunIds: Type.Optional(Type.Array(Type.String())),
  createdTime: Type.Optional(Type.Number()),
  reason: Type.Optional(Nullable(Type.String())),
});
const ClusterListSchema = Type.Object({ clusterList: Type.Array(ClusterSchema) });
const ClusterStatusSchema = Type.Object({ status: Type.Union([Type.String(), Type.Null()]), clusterList: ClusterListSchema });
const ClusterNameParams = Type.Object({ name: Type.String() });
const ClusterListQuerySchema = Type.Object({ names: Type.Optional(Type.String()) });
const ClusterActionRequestSchema = Type.Object({
  names: Type.Optional(Type.Array(Type.String({ pattern: CLUSTER_NAME_PATTERN }), { maxItems: 1000 })),
  all: Type.Optional(Type.Boolean()),
});
const ClusterActionResponseSchema = Type.Object({
  done: Type.Boolean(),
  clusterList: Type.Array(ClusterSchema),
  failures: Type.Array(Type.Object({ clusterName: Type.String(), resultCode: Type.Integer(), reason: Type.String() })),
});
const AutostopRequestSchema = Type.Object({ idleMinutes: Type.Number({ minimum: 0 }) });
const errors = { ...authErrors, 409: ErrorBodySchema };

const splitNames = (names: string | undefined) =>
  (names ?? "")
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n.length > 0);

export function clusterRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (app) => {
    const preHandler = requireUser(ctx);

    // Without names: the caller's live clusters. With names: those, a killed one as TERMINATED.
    app.get<{ Querystring: ClusterListQuery }>(
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

    app.get<{ Params: { name: string } }>(
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
      app.post<{ Body: ClusterActionRequest }>(
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

    app.put<{ Params: { name: string }; Body: ClusterAutostopRequest }>(
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
