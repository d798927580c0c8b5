/**
 * What operators watch: /healthz (the database answers), /metrics (Prometheus), and one log line
 * per request carrying its request id, also sent back as `x-request-id`.
 */
import { randomUUID } from "node:crypto";
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, FastifyRequest, RawServerDefault } from "fastify";
import type { IncomingMessage } from "node:http";
import { sql } from "kysely";
import type { ServerContext } from "../context.js";
import { unboundRequestId } from "./request-log.js";
import { readFleetSnapshot } from "../metrics/fleet-snapshot.js";
import type { ServerMetrics } from "../metrics/server-metrics.js";

export const REQUEST_ID_HEADER = "x-request-id";
/** A caller's id is kept (to follow a request across a proxy) only when it is short and plain. */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Fastify options: the caller's x-request-id when acceptable, else a fresh UUID (logged as reqId). */
export function requestIdOptions() {
  return { genReqId: requestIdOf };
}

/** The caller's x-request-id when acceptable, else a fresh UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === "string" && ACCEPTABLE_ID.test(given) ? given : flatUuid();
}

/**
 * A fresh UUID as one flat string. randomUUID's text is a rope of a dozen pieces (about 450
 * bytes) until something flattens it, and an agent's held poll keeps its request's id for the
 * whole hold: this is a fifth of that.
 */
function flatUuid(): string {
  return Buffer.from(randomUUID(), "latin1").toString("latin1");
}

/** Log levels at which the quiet routes' requests get their line. */
const LOGGED_AT_DEBUG = new Set(["trace", "debug"]);
/** Log levels at which the other routes' requests get their line. */
const LOGGED_AT_INFO = new Set(["trace", "debug", "info"]);

/** What a request's line says, whether fastify or a listener ahead of it served the request. */
export interface RequestLine {
  method: string;
  /** Without its query. */
  url: string;
  /** The route's template, as the latency metric labels it. */
  route: string;
  statusCode: number;
  ms: number;
}

/**
 * A request's line: at debug for the quiet routes, at info for the rest, and nothing (not even
 * the fields) below the logger's level. `reqId` is added when `log` is not bound to the request.
 */
export function logRequestLine(log: FastifyBaseLogger, line: RequestLine, reqId?: string): void {
  const quiet = isQuietRoute(line.route);
  if (!(quiet ? LOGGED_AT_DEBUG : LOGGED_AT_INFO).has(log.level)) return;
  const fields = reqId === undefined ? line : { reqId, ...line };
  if (quiet) log.debug(fields, "request");
  else log.info(fields, "request");
}

/**
 * Agents long-poll and heartbeat all the time: their requests are logged at debug, so that the
 * info log holds what people did. Every request is timed for /metrics.
 */
export function installRequestLog(app: FastifyInstance<RawServerDefault>, metrics: ServerMetrics): void {
  app.addHook("onSend", async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = routeOf(request);
    metrics.observeHttp(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    const line = {
      method: request.method,
      url: request.url.split("?")[0],
      route,
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    };
    logRequestLine(request.log, line, unboundRequestId(request));
  });
}

/** Routes whose requests are logged at debug, not info: agents poll and report without a pause. */
function isQuietRoute(route: string): boolean {
  return route.startsWith("/api/v1/agent/") || route === "/metrics" || route === "/healthz";
}

/** The route's template (/api/v1/runs/:id), so that ids do not explode the label set. */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? "(no route)";
}

export function observabilityRoutes(ctx: ServerContext, metrics: ServerMetrics): FastifyPluginAsync {
  return async (app) => {
    app.get("/healthz", { schema: { hide: true } }, async (_request, reply) => {
      const started = Date.now();
      try {
        await sql`select 1`.execute(ctx.db);
        return { ok: true, database: "ok", ms: Date.now() - started };
      } catch (err) {
        return reply.status(503).send({ ok: false, database: (err as Error).message.split("\n")[0], ms: Date.now() - started });
      }
    });

    app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
      const now = ctx.now();
      metrics.applySnapshot(await readFleetSnapshot(ctx.db, now, ctx.onlineTest(), metrics.placedAfter));
      const { contentType, body } = await metrics.render();
      return reply.type(contentType).send(body);
    });
  };
}
