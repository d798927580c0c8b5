/**
 * The HTTP server fastify serves on, with one listener that sees each request first and may
 * serve it itself (the inference proxy: a hop whose every microsecond shows in a caller's
 * latency; the agents' plain assignments polls, held by every agent all the time). The rest
 * goes to fastify. Timeouts are set as fastify sets them on its own server.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { FastifyServerOptions } from "fastify";
import { REQUEST_ID_HEADER } from "./observability.js";

/** Serves a request itself (true) or leaves it to the rest of the server (false). */
export type RequestListener = (request: IncomingMessage, reply: ServerResponse) => boolean;

/** What a request served ahead of fastify records, as fastify's routes record theirs (the route template is the label). */
export interface HttpObserver {
  observeHttp(method: string, route: string, statusCode: number, seconds: number): void;
}

/** A whole JSON answer of a request served ahead of fastify, with its request id, as fastify's routes answer. */
export function writeJson(
  response: ServerResponse,
  status: number,
  body: string,
  reqId: string,
  extraHeaders?: Record<string, string>,
): void {
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    [REQUEST_ID_HEADER]: reqId,
    ...extraHeaders,
  });
  response.end(body);
}

/** The first of `listeners` that serves the request serves it. */
export function firstOf(...listeners: RequestListener[]): RequestListener {
  return (request, reply) => {
    for (const serve of listeners) if (serve(request, reply)) return true;
    return false;
  };
}

export function frontServerFactory(front: () => RequestListener | undefined) {
  return (fastifyHandler: (request: IncomingMessage, reply: ServerResponse) => void, options: FastifyServerOptions): Server => {
    const server = createServer((request, reply) => {
      if (front()?.(request, reply)) return;
      fastifyHandler(request, reply);
    });
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
    if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };
}
