import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { LogSearchQuerySchema, LogSearchResponseSchema, RunDetailSchema } from "@fedml/core";
import type { FastifyPluginAsync } from "fastify";
import { requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { ownedRun } from "../runs/lookup.js";
import { findLogLine } from "../store/log-search.js";
import { parseRowId } from "../store/ids.js";
import { RunIdParams, authErrors } from "./schemas.js";

/** What a run's page shows beyond the run model: its job YAML and when it was placed, and search in its logs. */
export function runDetailRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    const preHandler = requireUser(ctx);

    app.get(
      "/runs/:id/detail",
      { preHandler, schema: { tags: ["runs"], params: RunIdParams, response: { 200: RunDetailSchema, ...authErrors } } },
      async (request) => {
        const run = await ownedRun(ctx, userOf(request).id, request.params.id);
        return { yamlText: run.yaml_text, placedTime: run.placed_at };
      },
    );

    app.get(
      "/runs/:id/log-search",
      {
        preHandler,
        schema: {
          tags: ["logs"],
          params: RunIdParams,
          querystring: LogSearchQuerySchema,
          response: { 200: LogSearchResponseSchema, ...authErrors },
        },
      },
      async (request) => {
        const run = await ownedRun(ctx, userOf(request).id, request.params.id);
        const { deviceId, text, afterSeq, beforeSeq } = request.query;
        const device = parseRowId(deviceId);
        if (device === undefined) return { seq: null };
        const from = beforeSeq !== undefined ? { beforeSeq } : { afterSeq: afterSeq ?? 0 };
        return { seq: (await findLogLine(ctx.db, { runId: run.id, deviceId: device, text }, from)) ?? null };
      },
    );
  };
}
