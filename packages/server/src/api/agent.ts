import {
  FedmlError,
  type HelloRequest,
  type LogBatchRequest,
  type RegisterRequest,
  ResultCode,
  type RunStatusReport,
} from "@fedml/core";
import type { FastifyPluginAsync } from "fastify";
import { deviceOf, requireDevice, requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { buildAssignments } from "../devices/assignments.js";
import { helloDevice } from "../devices/hello.js";
import { registerDevice } from "../devices/register.js";
import { deviceTopic, runTopic } from "../notify.js";
import { failParts } from "../runs/end-parts.js";
import { applyStatusReport } from "../runs/status-report.js";
import { findDeviceById, removeDevice, touchDevice } from "../store/devices.js";
import { parseRowId } from "../store/ids.js";
import { appendLogBatch } from "../store/logs.js";
import { findRunDevice, listLiveRunDevices } from "../store/runs.js";
import { errorBody } from "./errors.js";
import {
  AssignmentsQuerySchema,
  AssignmentsResponseSchema,
  HelloRequestSchema,
  HelloResponseSchema,
  LogBatchRequestSchema,
  LogBatchResponseSchema,
  LogGapSchema,
  OkSchema,
  RegisterRequestSchema,
  RegisterResponseSchema,
  RunIdParams,
  RunStatusReportSchema,
  Sha256Params,
  authErrors,
} from "./schemas.js";

function runIdOf(value: string): number {
  const id = parseRowId(value);
  if (id === undefined) throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `run ${value} not found`, 404);
  return id;
}

export function agentRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (app) => {
    const deviceAuth = requireDevice(ctx);

    app.post<{ Body: RegisterRequest }>(
      "/agent/register",
      {
        preHandler: requireUser(ctx),
        schema: { tags: ["agent"], body: RegisterRequestSchema, response: { 200: RegisterResponseSchema, ...authErrors } },
      },
      async (request) => registerDevice(ctx, userOf(request), request.body),
    );

    app.post<{ Body: HelloRequest }>(
      "/agent/hello",
      {
        preHandler: deviceAuth,
        schema: { tags: ["agent"], body: HelloRequestSchema, response: { 200: HelloResponseSchema, ...authErrors } },
      },
      async (request) => helloDevice(ctx, deviceOf(request), request.body),
    );

    app.get<{ Querystring: { since?: number; waitMs?: number } }>(
      "/agent/assignments",
      {
        preHandler: deviceAuth,
        schema: {
          tags: ["agent"],
          querystring: AssignmentsQuerySchema,
          response: { 200: AssignmentsResponseSchema, ...authErrors },
        },
      },
      async (request, reply) => {
        const device = deviceOf(request);
        if (await touchDevice(ctx.db, device.id, ctx.now())) await ctx.placement.placeQueued();
        const since = request.query.since ?? 0;
        // Held polls must end well before the device would count as silent.
        const waitMs = Math.min(request.query.waitMs ?? 0, ctx.options.pollMaxWaitMs, ctx.options.offlineAfterMs / 2);
        const hangUp = new AbortController();
        reply.raw.once("close", () => hangUp.abort());
        await ctx.hub.waitUntil(
          deviceTopic(device.id),
          waitMs,
          async () => {
            const current = await findDeviceById(ctx.db, device.id);
            return current && current.version > since ? true : undefined;
          },
          hangUp.signal,
        );
        await touchDevice(ctx.db, device.id, ctx.now());
        return buildAssignments(ctx, device.id);
      },
    );

    app.post<{ Params: { id: string }; Body: RunStatusReport }>(
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

    app.post<{ Params: { id: string }; Body: LogBatchRequest }>(
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
        const part = await findRunDevice(ctx.db, runId, device.id);
        if (!part) throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `run ${runId} is not assigned to device ${device.id}`, 404);
        const lines = [...request.body.lines].sort((a, b) => a.seq - b.seq);
        if (lines.length === 0) return { ackedSeq: part.log_count };
        if (lines[0].seq > part.log_count + 1) {
          return reply.status(409).send({
            ...errorBody(
              ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
              `log batch starts at line ${lines[0].seq} but the server has ${part.log_count}: resend from ${part.log_count + 1}`,
            ),
            ackedSeq: part.log_count,
          });
        }
        const ackedSeq = await appendLogBatch(ctx.db, runId, device.id, lines);
        ctx.hub.notify(runTopic(runId));
        return { ackedSeq };
      },
    );

    app.get<{ Params: { sha256: string } }>(
      "/agent/workspaces/:sha256",
      { preHandler: deviceAuth, schema: { tags: ["agent"], params: Sha256Params } },
      async (request, reply) => {
        const { sha256 } = request.params;
        const device = deviceOf(request);
        const assigned = await ctx.db
          .selectFrom("run_devices")
          .innerJoin("runs", "runs.id", "run_devices.run_id")
          .select("runs.id")
          .where("run_devices.device_id", "=", device.id)
          .where("runs.workspace_sha256", "=", sha256)
          .executeTakeFirst();
        if (!assigned || !ctx.blobs.has(sha256)) {
          throw new FedmlError(ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR, `workspace ${sha256} is not on this server`, 404);
        }
        reply.type("application/gzip");
        reply.header("content-length", String(ctx.blobs.sizeOf(sha256)));
        return reply.send(ctx.blobs.open(sha256));
      },
    );

    app.post(
      "/agent/unregister",
      { preHandler: deviceAuth, schema: { tags: ["agent"], response: { 200: OkSchema, ...authErrors } } },
      async (request) => {
        const device = deviceOf(request);
        await removeDevice(ctx.db, device.id);
        const live = await listLiveRunDevices(ctx.db, [device.id]);
        if (live.length > 0) await failParts(ctx, live, `device ${device.name} was unbound`);
        await ctx.placement.placeQueued();
        return { ok: true };
      },
    );
  };
}
