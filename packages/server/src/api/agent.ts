import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { FedmlError, ResultCode } from "@fedml/core";
import type { FastifyBaseLogger, FastifyPluginAsync, FastifyReply } from "fastify";
import { deviceOf, requireDevice, requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { type AssignmentPolls, type PollReply, holdTiming } from "../devices/assignment-polls.js";
import { helloDevice } from "../devices/hello.js";
import { registerDevice } from "../devices/register.js";
import { unbindDevice } from "../devices/unbind.js";
import { storeLogBatch, storeLogText } from "../runs/log-write.js";
import { applyStatusReport, applyStatusReports } from "../runs/status-report.js";
import { parseRowId } from "../store/ids.js";
import { workspaceForDevice } from "../workspaces/agent-download.js";
import {
  AssignmentsQuerySchema,
  AssignmentsResponseSchema,
  HelloRequestSchema,
  HelloResponseSchema,
  LogBatchRequestSchema,
  LogBatchResponseSchema,
  LogGapSchema,
  LogTextBatchSchema,
  OkSchema,
  RegisterRequestSchema,
  RegisterResponseSchema,
  RunIdParams,
  RunReportBatchResponseSchema,
  RunReportBatchSchema,
  RunStatusReportSchema,
  Sha256Params,
  authErrors,
} from "./schemas.js";

/** A poll answered through fastify's route (polls of any other shape than the front path takes). */
class RoutedPollReply implements PollReply {
  constructor(private readonly reply: FastifyReply) {}

  send(json: string, holdMs: number): void {
    // Already JSON: fastify sends a string with a JSON type as it is.
    this.reply.type("application/json; charset=utf-8").header("server-timing", holdTiming(holdMs)).send(json);
  }

  /** After the handler returned: fastify's error handler answers it as it would a thrown one. */
  fail(error: unknown): void {
    this.reply.send(error);
  }

  get gone(): boolean {
    return this.reply.raw.destroyed;
  }
}

/** The server's own logger for a request, instead of a child of its own. */
function serverLogger(logger: FastifyBaseLogger): FastifyBaseLogger {
  return logger;
}

function runIdOf(value: string): number {
  const id = parseRowId(value);
  if (id === undefined) throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `run ${value} not found`, 404);
  return id;
}

/** @param polls the assignments long-polls, shared with the front path (api/assignments-front.ts) */
export function agentRoutes(ctx: ServerContext, polls: AssignmentPolls): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    const deviceAuth = requireDevice(ctx);

    app.post(
      "/agent/register",
      {
        preHandler: requireUser(ctx),
        schema: { tags: ["agent"], body: RegisterRequestSchema, response: { 200: RegisterResponseSchema, ...authErrors } },
      },
      async (request) => registerDevice(ctx, userOf(request), request.body),
    );

    app.post(
      "/agent/hello",
      {
        preHandler: deviceAuth,
        schema: { tags: ["agent"], body: HelloRequestSchema, response: { 200: HelloResponseSchema, ...authErrors } },
      },
      async (request) => helloDevice(ctx, deviceOf(request), request.body),
    );

    app.get(
      "/agent/assignments",
      {
        preHandler: deviceAuth,
        // A child logger per poll (its bindings, its request-id text) lived through the hold and
        // was promoted with it; the few lines logged for a poll bind the id then (requestLog).
        childLoggerFactory: serverLogger,
        schema: {
          tags: ["agent"],
          querystring: AssignmentsQuerySchema,
          response: { 200: AssignmentsResponseSchema, ...authErrors },
        },
      },
      // Not async: while the poll is held nothing of it waits in a suspended frame (held-polls.ts).
      (request, reply) => {
        polls.serve(deviceOf(request), request.query.since ?? 0, request.query.waitMs ?? 0, new RoutedPollReply(reply));
      },
    );

    app.post(
      "/agent/runs/:id/status",
      {
        preHandler: deviceAuth,
        schema: {
          tags: ["agent"],
          params: RunIdParams,
          body: RunStatusReportSchema,
          response: { 200: OkSchema, ...authErrors },
        },
      },
      async (request) => {
        await applyStatusReport(ctx, runIdOf(request.params.id), deviceOf(request).id, request.body);
        return { ok: true };
      },
    );

    app.post(
      "/agent/reports",
      {
        preHandler: deviceAuth,
        schema: {
          tags: ["agent"],
          body: RunReportBatchSchema,
          response: { 200: RunReportBatchResponseSchema, ...authErrors },
        },
      },
      async (request) => ({ results: await applyStatusReports(ctx, deviceOf(request).id, request.body.reports) }),
    );

    app.post(
      "/agent/runs/:id/logs",
      {
        preHandler: deviceAuth,
        bodyLimit: 64 * 1024 * 1024,
        config: { nulInText: "replace" },
        schema: {
          tags: ["agent"],
          params: RunIdParams,
          body: LogBatchRequestSchema,
          response: { 200: LogBatchResponseSchema, 409: LogGapSchema, ...authErrors },
        },
      },
      async (request, reply) => {
        const runId = runIdOf(request.params.id);
        const device = deviceOf(request);
        const stored = await storeLogBatch(ctx, runId, device.id, request.body.lines);
        return "gap" in stored ? reply.status(409).send(stored.gap) : stored;
      },
    );

    app.post(
      "/agent/runs/:id/logs/text",
      {
        preHandler: deviceAuth,
        bodyLimit: 64 * 1024 * 1024,
        config: { nulInText: "replace" },
        schema: {
          tags: ["agent"],
          params: RunIdParams,
          body: LogTextBatchSchema,
          response: { 200: LogBatchResponseSchema, 409: LogGapSchema, ...authErrors },
        },
      },
      async (request, reply) => {
        const stored = await storeLogText(ctx, runIdOf(request.params.id), deviceOf(request).id, request.body);
        return "gap" in stored ? reply.status(409).send(stored.gap) : stored;
      },
    );

    app.get(
      "/agent/workspaces/:sha256",
      { preHandler: deviceAuth, schema: { tags: ["agent"], params: Sha256Params } },
      async (request, reply) => {
        const { sha256 } = request.params;
        const blob = await workspaceForDevice(ctx, deviceOf(request).id, sha256, (why) =>
          request.log.error({ sha256, why }, "workspace blob is corrupt: marked unusable until uploaded again"),
        );
        reply.type("application/gzip");
        reply.header("content-length", String(blob.size));
        return reply.send(blob.stream);
      },
    );

    app.post(
      "/agent/unregister",
      { preHandler: deviceAuth, schema: { tags: ["agent"], response: { 200: OkSchema, ...authErrors } } },
      async (request) => {
        await unbindDevice(ctx, deviceOf(request), "unbound");
        return { ok: true };
      },
    );
  };
}
