import type { Readable } from "node:stream";
import { EndpointStatus, FedmlError, ResultCode } from "@fedml/core";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { ownedEndpoint } from "../serving/owned-endpoint.js";
import { forwardThroughTunnel } from "../serving/tunnel-proxy.js";
import { errorBody } from "./errors.js";

/** How long a request waits for the agent's tunnel (the agent reconnecting after a blip). */
const TUNNEL_WAIT_MS = 5_000;

/** The job's path and query: what follows `/inference/<id>` in the raw URL. */
function jobPath(rawUrl: string, endpointId: string): string {
  const prefix = `/inference/${endpointId}`;
  const rest = rawUrl.slice(rawUrl.indexOf(prefix) + prefix.length);
  return rest.startsWith("/") ? rest : `/${rest}`;
}

/**
 * `/inference/<endpointId>/<path>`: the endpoint's owner (API key) reaches the serving job's
 * `/<path>` through its agent's tunnel; the server never dials a device. Bodies stream both
 * ways, never buffered.
 */
export function inferenceRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (app) => {
    // Bodies of any type pass through untouched, as a stream.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    const preHandler = requireUser(ctx);
    const handler = async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      const endpoint = await ownedEndpoint(ctx, userOf(request).id, request.params.id);
      if (endpoint.status !== EndpointStatus.READY || endpoint.device_id === null) {
        const removed = endpoint.status === EndpointStatus.REMOVED || endpoint.status === EndpointStatus.FAILED;
        throw new FedmlError(
          removed ? ResultCode.JOB_NOT_EXISTS : ResultCode.ERROR,
          removed
            ? `endpoint ${endpoint.id} is ${endpoint.status}: its run has ended`
            : `endpoint ${endpoint.id} is ${endpoint.status}: the serving job has not answered its readiness probe yet`,
          removed ? 404 : 503,
        );
      }
      const session = await ctx.tunnels.sessionWithin(endpoint.device_id, TUNNEL_WAIT_MS);
      if (!session) {
        throw new FedmlError(
          ResultCode.ERROR,
          `endpoint ${endpoint.id}: the agent of device ${endpoint.device_id} has no tunnel open to this server (offline or reconnecting)`,
          503,
        );
      }
      reply.hijack();
      const outcome = await forwardThroughTunnel(
        session,
        { runId: endpoint.run_id, endpointId: endpoint.id },
        {
          method: request.method,
          path: jobPath(request.raw.url ?? "/", request.params.id),
          headers: request.headers,
          body: request.body as Readable | undefined,
        },
        reply.raw,
      );
      if (outcome === "unreachable") {
        reply.raw.writeHead(502, { "content-type": "application/json; charset=utf-8" });
        reply.raw.end(
          JSON.stringify(errorBody(ResultCode.ERROR, `endpoint ${endpoint.id}: nothing answers on the serving job's port`)),
        );
      }
    };
    app.all<{ Params: { id: string } }>("/inference/:id", { preHandler, schema: { hide: true } }, handler);
    app.all<{ Params: { id: string } }>("/inference/:id/*", { preHandler, schema: { hide: true } }, handler);
  };
}
