import type { FastifyBaseLogger, FastifyRequest } from "fastify";

/**
 * The request's logger, bound to its request id. Held assignments polls are served with the
 * server's own logger (api/agent.ts: a child per poll lived through its hold): their id is
 * bound here, only when a line is logged.
 */
export function requestLog(request: FastifyRequest): FastifyBaseLogger {
  const reqId = unboundRequestId(request);
  return reqId === undefined ? request.log : request.log.child({ reqId });
}

/** The request's id when its logger is not bound to it (the server's own logger), else undefined. */
export function unboundRequestId(request: FastifyRequest): string | undefined {
  return request.log === request.server.log ? request.id : undefined;
}
