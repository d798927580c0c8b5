import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Readable } from "node:stream";
import type { FastifyPluginAsync } from "fastify";
import { requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { followLogLines, followLogText, fullLogText, runLogPage } from "../runs/log-read.js";
import { ownedRun } from "../runs/lookup.js";
import { assertOnPlatform } from "../runs/platform.js";
import {
  FullLogQuerySchema,
  LogLinesQuerySchema,
  LogLinesResponseSchema,
  LogTextResponseSchema,
  RunIdParams,
  RunLogResultSchema,
  RunLogsQuerySchema,
  authErrors,
} from "./schemas.js";

export function runLogRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    const preHandler = requireUser(ctx);

    app.get(
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
        // The typed reply expects the object; the stream is that object's JSON, written piecewise.
        return reply.send((await runLogPage(ctx, run, pageNum, pageSize, needAllLogs)) as never);
      },
    );

    app.get(
      "/runs/:id/logs/full",
      { preHandler, schema: { tags: ["logs"], params: RunIdParams, querystring: FullLogQuerySchema } },
      async (request, reply) => {
        const run = await ownedRun(ctx, userOf(request).id, request.params.id);
        const deviceId = request.query.deviceId ? Number(request.query.deviceId) : null;
        reply.type("text/plain; charset=utf-8");
        return reply.send(Readable.from(fullLogText(ctx, run, Number.isNaN(deviceId) ? -1 : deviceId)));
      },
    );

    app.get(
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

    app.get(
      "/runs/:id/log-lines/text",
      {
        preHandler,
        schema: {
          tags: ["logs"],
          params: RunIdParams,
          querystring: LogLinesQuerySchema,
          response: { 200: LogTextResponseSchema, ...authErrors },
        },
      },
      async (request, reply) => {
        const run = await ownedRun(ctx, userOf(request).id, request.params.id);
        const hangUp = new AbortController();
        reply.raw.once("close", () => hangUp.abort());
        return followLogText(ctx, run.id, request.query, hangUp.signal);
      },
    );
  };
}
