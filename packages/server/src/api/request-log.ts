import type { FastifyBaseLogger, FastifyRequest } from "fastify";

/**
 * The request's logger, bound to its request id. Held assignments polls are served with the
 * server's own logger (api/agent.ts: a child per poll lived through its hold): their id is
 * bound here, only when a line is logged.
 */
export function requestLog(request: FastifyRequest): FastifyBaseLogger {
  return request.log === request.server.log ? request.log.child({ reqId: request.id }) : request.log;
}
