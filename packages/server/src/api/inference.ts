import type { Readable } from "node:stream";
import type { Static } from "@sinclair/typebox";
import { EndpointStatus, FedmlError, ResultCode } from "@fedml/core";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { assertDashboardCall, withoutDashboardCredentials } from "../serving/caller-credentials.js";
import { awaitColdStart } from "../serving/cold-start.js";
import { routableReplicas } from "../serving/pick-replica.js";
import { routeInference } from "../serving/route-request.js";
import { InferenceRouting } from "../serving/routing-cache.js";
import { parseRowId } from "../store/ids.js";
import type { EndpointIdParams as EndpointIdParamsSchema } from "./schemas.js";

type EndpointIdParams = Static<typeof EndpointIdParamsSchema>;

/** Where each request's outcome and latency go (the server's /metrics). */
export interface InferenceObserver {
  observeInference(endpointId: number, seconds: number, ok: boolean): void;
}

/** The job's path and query: what follows `/inference/<id>` in the raw URL. */
function jobPath(rawUrl: string, endpointId: string): string {
  const prefix = `/inference/${endpointId}`;
  const rest = rawUrl.slice(rawUrl.indexOf(prefix) + prefix.length);
  return rest.startsWith("/") ? rest : `/${rest}`;
}

/**
 * `/inference/<endpointId>/<path>`: the endpoint's owner (API key) reaches the serving job's
 * `/<path>` on one of its ready replicas, through that replica's agent tunnel; the server never
 * dials a device. Bodies stream both ways, never buffered.
 */
export function inferenceRoutes(ctx: ServerContext, observer?: InferenceObserver): FastifyPluginAsync {
  return async (app) => {
    // Bodies of any type pass through untouched, as a stream.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    const routing = new InferenceRouting(ctx);
    const userCheck = requireUser(ctx, (keyHash) => routing.userOfKey(keyHash));
    const preHandler = async (request: FastifyRequest) => {
      assertDashboardCall(request.headers);
      await userCheck(request);
    };
    const handler = async (request: FastifyRequest<{ Params: EndpointIdParams }>, reply: FastifyReply) => {
      const id = parseRowId(request.params.id);
      const known = id === undefined ? undefined : await routing.routing(id);
      // Another user's endpoint answers exactly like an unknown one.
      if (!known || known.endpoint.owner_id !== userOf(request).id) {
        throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `endpoint ${request.params.id} not found`, 404);
      }
      let endpoint = known.endpoint;
      if (endpoint.status === EndpointStatus.REMOVED || endpoint.status === EndpointStatus.FAILED) {
        throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `endpoint ${endpoint.id} is ${endpoint.status}: its run has ended`, 404);
      }
      ctx.replicaLoad.begin(endpoint.id);
      const started = performance.now();
      let ok = false;
      try {
        let replicas = known.replicas;
        if (routableReplicas(replicas).length === 0 && endpoint.desired_replicas === 0) {
          // Scaled to zero: this request brings a replica up and waits (bounded) for it.
          ({ endpoint, replicas } = await awaitColdStart(ctx, endpoint));
        }
        if (routableReplicas(replicas).length === 0) {
          throw new FedmlError(
            ResultCode.ERROR,
            `endpoint ${endpoint.id} is ${endpoint.status}: its serving job has not answered its readiness probe yet`,
            503,
          );
        }
        reply.hijack();
        ok = await routeInference(
          ctx,
          endpoint,
          replicas,
          {
            method: request.method,
            path: jobPath(request.raw.url ?? "/", request.params.id),
            headers: withoutDashboardCredentials(request.headers),
            body: request.body as Readable | undefined,
          },
          reply.raw,
        );
      } finally {
        ctx.replicaLoad.end(endpoint.id, ok);
        observer?.observeInference(endpoint.id, (performance.now() - started) / 1000, ok);
      }
    };
    // The id is not validated by a schema here (an unknown or foreign one answers 404 in
    // ownedEndpoint), so this path stays free of validation cost; its type is the core one.
    app.all<{ Params: EndpointIdParams }>("/inference/:id", { preHandler, schema: { hide: true } }, handler);
    app.all<{ Params: EndpointIdParams }>("/inference/:id/*", { preHandler, schema: { hide: true } }, handler);
  };
}
