/**
 * The agents' plain assignments polls (`GET /api/v1/agent/assignments?since=N&waitMs=M`),
 * served from the HTTP server's request event ahead of fastify, as the inference proxy is.
 * Every agent holds such a poll all the time: with 10,000 agents they are nearly every
 * request the server gets, and each kept fastify's request, reply and their context for its
 * whole hold, which V8 promotes and later collects. What fastify did for them is done here:
 * the device token (`deviceOfAuthorization`), the error bodies (`errorAnswer`), the request
 * id header, the per-route latency metric and the request line (at debug, as for every agent
 * route). A poll of any other shape (another parameter, a value that is not a plain number in
 * range, HEAD) goes on to the route, whose schema validates and answers it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { API_PREFIX, AssignmentsQuerySchema, type FedmlError } from "@fedml/core";
import { deviceOfAuthorization } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { type AssignmentPolls, type PollReply, holdTiming } from "../devices/assignment-polls.js";
import { errorAnswer } from "./errors.js";
import { type HttpObserver, type RequestListener, writeJson } from "./front-server.js";
import { logRequestLine, requestIdOf } from "./observability.js";

/** The route's path, and its template as fastify's metric labels it. */
export const ASSIGNMENTS_ROUTE = `${API_PREFIX}/agent/assignments`;
/** The route schema's bounds, so that a value the schema refuses goes to the schema. */
const MAXIMUM = {
  since: AssignmentsQuerySchema.properties.since.maximum as number,
  waitMs: AssignmentsQuerySchema.properties.waitMs.maximum as number,
};
const PLAIN_NUMBER = /^(0|[1-9][0-9]{0,9})$/;

/**
 * `since` and `waitMs` (0 when absent) of a poll's URL, when it is the assignments path with
 * no parameter but these, each at most once, each a plain decimal number within the route
 * schema's bounds; null for anything else.
 */
export function plainPollQuery(url: string): { since: number; waitMs: number } | null {
  if (!url.startsWith(ASSIGNMENTS_ROUTE)) return null;
  const rest = url.slice(ASSIGNMENTS_ROUTE.length);
  const query: { since?: number; waitMs?: number } = {};
  if (rest.length > 0) {
    if (rest[0] !== "?") return null;
    for (const pair of rest.slice(1).split("&")) {
      const at = pair.indexOf("=");
      const name = pair.slice(0, at);
      if (at < 0 || (name !== "since" && name !== "waitMs") || query[name] !== undefined) return null;
      const text = pair.slice(at + 1);
      if (!PLAIN_NUMBER.test(text)) return null;
      const value = Number(text);
      if (value > MAXIMUM[name]) return null;
      query[name] = value;
    }
  }
  return { since: query.since ?? 0, waitMs: query.waitMs ?? 0 };
}

/** The listener's own part of every poll it answers: one per listener, shared by its polls. */
class FrontPolls {
  constructor(
    readonly ctx: ServerContext,
    readonly observer: HttpObserver,
  ) {}

  end(
    request: IncomingMessage,
    response: ServerResponse,
    startedAt: number,
    status: number,
    body: string,
    holdMs?: number,
  ): void {
    // Made at the answer, not kept through the hold; the same id in the header and the line.
    const reqId = requestIdOf(request);
    // A client that hung up gets nothing; its poll is still counted as fastify counts it.
    if (!response.destroyed && !response.headersSent) {
      writeJson(response, status, body, reqId, holdMs === undefined ? undefined : { "server-timing": holdTiming(holdMs) });
    }
    const ms = performance.now() - startedAt;
    this.observer.observeHttp("GET", ASSIGNMENTS_ROUTE, status, ms / 1000);
    const line = { method: "GET", url: ASSIGNMENTS_ROUTE, route: ASSIGNMENTS_ROUTE, statusCode: status, ms: Math.round(ms) };
    logRequestLine(this.ctx.log, line, reqId);
  }
}

/** A poll taken on ahead of fastify: its request, its response, when it came, and the listener's part. */
class FrontPollReply implements PollReply {
  constructor(
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    private readonly startedAt: number,
    private readonly front: FrontPolls,
  ) {}

  send(json: string, holdMs: number): void {
    this.front.end(this.request, this.response, this.startedAt, 200, json, holdMs);
  }

  fail(error: unknown): void {
    const { status, body } = errorAnswer(error as FedmlError, this.front.ctx.log, this.request.url ?? "");
    this.front.end(this.request, this.response, this.startedAt, status, JSON.stringify(body));
  }

  get gone(): boolean {
    return this.response.destroyed;
  }
}

export function assignmentsListener(ctx: ServerContext, polls: AssignmentPolls, observer: HttpObserver): RequestListener {
  const front = new FrontPolls(ctx, observer);
  return (request, response) => {
    if (request.method !== "GET" || request.url === undefined) return false;
    const query = plainPollQuery(request.url);
    if (query === null) return false;
    const reply = new FrontPollReply(request, response, performance.now(), front);
    // A throw while taking the poll on is answered as the token's refusal is, never left unhandled.
    deviceOfAuthorization(ctx, request.headers.authorization)
      .then((device) => polls.serve(device, query.since, query.waitMs, reply))
      .catch((error: unknown) => reply.fail(error));
    return true;
  };
}
