import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import { EndpointStatus, FedmlError, ResultCode } from "@fedml/core";
import type { FastifyPluginAsync, FastifyReply } from "fastify";
import { requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { ownedEndpoint } from "../serving/owned-endpoint.js";
import { errorBody } from "./errors.js";

/** Hop-by-hop headers and the caller's API key never reach the job. */
const DROPPED_REQUEST_HEADERS = new Set(["host", "connection", "keep-alive", "authorization", "transfer-encoding", "upgrade"]);
const DROPPED_RESPONSE_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding"]);

function forwardable(headers: IncomingHttpHeaders, dropped: Set<string>): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !dropped.has(name.toLowerCase())));
}

/**
 * `/inference/<endpointId>/<path>`: the endpoint's owner (API key) reaches the serving job's
 * `/<path>` on its device's address and port. Bodies stream both ways, never buffered.
 */
export function inferenceRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (app) => {
    // Bodies of any type pass through untouched, as a stream.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    const preHandler = requireUser(ctx);
    const handler = async (request: import("fastify").FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      const endpoint = await ownedEndpoint(ctx, userOf(request).id, request.params.id);
      if (endpoint.status !== EndpointStatus.READY || endpoint.port === null) {
        const removed = endpoint.status === EndpointStatus.REMOVED || endpoint.status === EndpointStatus.FAILED;
        throw new FedmlError(
          removed ? ResultCode.JOB_NOT_EXISTS : ResultCode.ERROR,
          removed
            ? `endpoint ${endpoint.id} is ${endpoint.status}: its run has ended`
            : `endpoint ${endpoint.id} is ${endpoint.status}: the serving job has not answered its readiness probe yet`,
          removed ? 404 : 503,
        );
      }
      const rawUrl = request.raw.url ?? "/";
      const prefix = `/inference/${request.params.id}`;
      const rest = rawUrl.slice(rawUrl.indexOf(prefix) + prefix.length);
      const path = rest.startsWith("/") ? rest : `/${rest}`;
      const body = request.body as Readable | undefined;
      reply.hijack();
      const upstream = httpRequest({
        host: endpoint.address ?? "127.0.0.1",
        port: endpoint.port,
        method: request.method,
        path,
        headers: { ...forwardable(request.headers, DROPPED_REQUEST_HEADERS), "x-fedml-endpoint-id": String(endpoint.id) },
      });
      upstream.on("response", (answer) => {
        reply.raw.writeHead(answer.statusCode ?? 502, forwardable(answer.headers, DROPPED_RESPONSE_HEADERS));
        answer.pipe(reply.raw);
        answer.on("error", () => reply.raw.destroy());
      });
      upstream.on("error", (err) => {
        if (reply.raw.headersSent) {
          reply.raw.destroy();
          return;
        }
        const message = `endpoint ${endpoint.id} did not answer at ${endpoint.address}:${endpoint.port}: ${err.message}`;
        reply.raw.writeHead(502, { "content-type": "application/json; charset=utf-8" });
        reply.raw.end(JSON.stringify(errorBody(ResultCode.ERROR, message)));
      });
      reply.raw.on("close", () => {
        if (!reply.raw.writableFinished) upstream.destroy();
      });
      if (body && typeof body.pipe === "function") body.pipe(upstream);
      else upstream.end();
    };
    app.all<{ Params: { id: string } }>("/inference/:id", { preHandler, schema: { hide: true } }, handler);
    app.all<{ Params: { id: string } }>("/inference/:id/*", { preHandler, schema: { hide: true } }, handler);
  };
}
