import { Readable } from "node:stream";
import type { RunLogsQuery } from "@fedml/core";
import type { FastifyPluginAsync } from "fastify";
import { requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { followLogLines, fullLogText, runLogPage } from "../runs/log-read.js";
import { ownedRun } from "../runs/lookup.js";
import { assertOnPlatform } from "../runs/platform.js";
import {
  FullLogQuerySchema,
  LogLinesQuerySchema,
  LogLinesResponseSchema,
  RunIdParams,
  RunLogResultSchema,
  RunLogsQuerySchema,
  authErrors,
} from "./schemas.js";

interface LogLinesQuery {
  deviceId?: string;
  afterSeq?: number;
  limit?: number;
  waitMs?: number;
}

export function runLogRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (app) => {
    const preHandler = requireUser(ctx);

    app.get<{ Params: { id: string }; Querystring: RunLogsQuery }>(
      "/runs/:id/logs",
      {
        preHandler,
        schema: {
          tags: ["logs"],
          params: RunIdParams,
          querystring: RunLogsQuerySchema,
          response: { 200: RunLogResultSchema, ...authErrors },
        },
      },
      async (request, reply) => {
        const run = await ownedRun(ctx, userOf(request).id, request.params.id);
        assertOnPlatform(run, request.query.platform);
        const { pageNum = 1, pageSize = 10, needAllLogs = false } = request.query;
        // Streamed (RunLogResultSchema documents its shape): a huge log never sits in memory whole.
        reply.type("application/json; charset=utf-8");
        return reply.send(await runLogPage(ctx, run, pageNum, pageSize, needAllLogs));
      },
    );

    app.get<{ Params: { id: string }; Querystring: { deviceId?: string } }>(
      "/runs/:id/logs/full",
      { preHandler, schema: { tags: ["logs"], params: RunIdParams, querystring: FullLogQuerySchema } },
      async (request, reply) => {
        const run = await ownedRun(ctx, userOf(request).id, request.params.id);
        const deviceId = request.query.deviceId ? Number(request.query.deviceId) : null;
        reply.type("text/plain; charset=utf-8");
        return reply.send(Readable.from(fullLogText(ctx, run, Number.isNaN(deviceId) ? -1 : deviceId)));
      },
    );

    app.get<{ Params: { id: string }; Querystring: LogLinesQuery }>(
      "/runs/:id/log-lines",
      {
        preHandler,
        schema: {
          tags: ["logs"],
          params: RunIdParams,
          querystring: LogLinesQuerySchema,
          response: { 200: LogLinesResponseSchema, ...authErrors },
        },
      },
      async (request, reply) => {
        const run = await ownedRun(ctx, userOf(request).id, request.params.id);
        const hangUp = new AbortController();
        reply.raw.once("close", () => hangUp.abort());
        return followLogLines(ctx, run.id, request.query, hangUp.signal);
      },
    );
  };
}
