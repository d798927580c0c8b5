import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { FedmlError, ResultCode } from "@fedml/core";
import type { FastifyPluginAsync } from "fastify";
import { deviceOf, requireDevice } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { applyServingReport } from "../serving/lifecycle.js";
import { parseRowId } from "../store/ids.js";
import { OkSchema, RunIdParams, ServingReportSchema, authErrors } from "./schemas.js";

/** POST /agent/runs/:id/serving: a serving job's port and readiness, from its agent. */
export function agentServingRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      "/agent/runs/:id/serving",
      {
        preHandler: requireDevice(ctx),
        schema: { tags: ["agent"], params: RunIdParams, body: ServingReportSchema, response: { 200: OkSchema, ...authErrors } },
      },
      async (request) => {
        const runId = parseRowId(request.params.id);
        if (runId === undefined) throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `run ${request.params.id} not found`, 404);
        await applyServingReport(ctx, runId, deviceOf(request).id, request.body);
        return { ok: true };
      },
    );
  };
}
