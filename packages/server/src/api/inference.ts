import type { IncomingMessage, ServerResponse } from "node:http";
import { EndpointStatus, FedmlError, ResultCode } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { userOfHeaders } from "../auth/guard.js";
import { assertDashboardCall, withoutDashboardCredentials } from "../serving/caller-credentials.js";
import { awaitColdStart } from "../serving/cold-start.js";
import { routableReplicas } from "../serving/pick-replica.js";
import { routeInference } from "../serving/route-request.js";
import { InferenceRouting } from "../serving/routing-cache.js";
import { parseRowId } from "../store/ids.js";
import { errorAnswer } from "./errors.js";
import { type HttpObserver, type RequestListener, writeJson } from "./front-server.js";
import { logRequestLine, requestIdOf } from "./observability.js";

/** Where each request's outcome and latency go (the server's /metrics). */
export interface InferenceObserver extends HttpObserver {
  observeInference(endpointId: number, seconds: number, ok: boolean): void;
}

const PREFIX = "/inference/";
/** GET and HEAD bodies are not passed on, as fastify's routes never read them either. */
const BODYLESS = new Set(["GET", "HEAD", "TRACE"]);

/**
 * `/inference/<endpointId>/<path>`: the endpoint's owner (API key) reaches the serving job's
 * `/<path>` on one of its ready replicas, through that replica's agent tunnel; the server never
 * dials a device. Bodies stream both ways, never buffered.
 *
 * Served from the HTTP server's request event, ahead of fastify: its routing, hooks and reply
 * objects cost more per request than the rest of the proxy, and none of them applies to a body
 * that passes through untouched. What fastify did for these requests is done here: the same
 * authentication (`userOfHeaders`), error bodies (`errorAnswer`), request log line and
 * per-route latency metric.
 */
export function inferenceListener(ctx: ServerContext, observer: InferenceObserver): RequestListener {
  const routing = new InferenceRouting(ctx);

  async function serve(request: IncomingMessage, reply: ServerResponse, idText: string, path: string): Promise<boolean> {
    assertDashboardCall(request.headers);
    const user = await userOfHeaders(ctx, request.method ?? "GET", request.headers);
    const id = parseRowId(idText);
    const known = id === undefined ? undefined : await routing.routing(id);
    // Another user's endpoint answers exactly like an unknown one.
    if (!known || known.endpoint.owner_id !== user.id) {
      throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `endpoint ${idText} not found`, 404);
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
      if (endpoint.desired_replicas === 0 && routableReplicas(replicas).length === 0) {
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
      const method = request.method ?? "GET";
      const headers = request.headers;
      const hasBody =
        !BODYLESS.has(method) &&
        (headers["transfer-encoding"] !== undefined ||
          (headers["content-length"] !== undefined && headers["content-length"] !== "0"));
      ok = await routeInference(
        ctx,
        endpoint,
        replicas,
        { method, path, headers: withoutDashboardCredentials(headers), body: hasBody ? request : undefined },
        reply,
      );
      return ok;
    } finally {
      ctx.replicaLoad.end(endpoint.id, ok);
      observer.observeInference(endpoint.id, (performance.now() - started) / 1000, ok);
    }
  }

  function answerFailure(error: unknown, request: IncomingMessage, reply: ServerResponse, reqId: string): void {
    if (reply.headersSent) {
      reply.destroy();
      return;
    }
    const { status, body } = errorAnswer(error as FedmlError, ctx.log, request.url ?? "");
    writeJson(reply, status, JSON.stringify(body), reqId);
  }

  return (request, reply) => {
    const url = request.url;
    if (url === undefined || !url.startsWith(PREFIX)) return false;
    let end = PREFIX.length;
    while (end < url.length && url[end] !== "/" && url[end] !== "?") end++;
    if (end === PREFIX.length) return false;
    let idText = url.slice(PREFIX.length, end);
    if (idText.includes("%")) {
      try {
        idText = decodeURIComponent(idText);
      } catch {
        // parseRowId refuses it: "not found", as for any other id that names no endpoint.
      }
    }
    // The job's path and query: what follows `/inference/<id>` in the raw URL.
    const rest = url.slice(end);
    const path = rest.startsWith("/") ? rest : `/${rest}`;
    const started = performance.now();
    // One id for the error's header and the line.
    const reqId = requestIdOf(request);
    serve(request, reply, idText, path)
      .catch((error) => answerFailure(error, request, reply, reqId))
      .finally(() => {
        const route = end === url.length || url[end] === "?" ? "/inference/:id" : "/inference/:id/*";
        const ms = performance.now() - started;
        const method = request.method ?? "GET";
        observer.observeHttp(method, route, reply.statusCode, ms / 1000);
        logRequestLine(
          ctx.log,
          { method, url: url.split("?")[0], route, statusCode: reply.statusCode, ms: Math.round(ms) },
          reqId,
        );
      });
    return true;
  };
}
