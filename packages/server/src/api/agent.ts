import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { type AssignmentsResponse, DeviceStatus, FedmlError, ResultCode } from "@fedml/core";
import type { FastifyPluginAsync } from "fastify";
import { deviceOf, requireDevice, requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { AssignmentCoalescer, pause } from "../devices/assignment-coalescing.js";
import { AssignmentAnswers } from "../devices/assignments.js";
import { DeviceVersionReader } from "../devices/device-versions.js";
import { helloDevice } from "../devices/hello.js";
import { registerDevice } from "../devices/register.js";
import { deviceTopic } from "../notify.js";
import { unbindDevice } from "../devices/unbind.js";
import { storeLogBatch, storeLogText } from "../runs/log-write.js";
import { applyStatusReport, applyStatusReports } from "../runs/status-report.js";
import { touchDevice } from "../store/devices.js";
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

/** A long-poll held at least this long marks its device seen again when it answers. */
const RETOUCH_AFTER_MS = 1_000;

function runIdOf(value: string): number {
  const id = parseRowId(value);
  if (id === undefined) throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `run ${value} not found`, 404);
  return id;
}

export function agentRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    const deviceAuth = requireDevice(ctx);
    const versions = new DeviceVersionReader(ctx.db);
    const coalescer = new AssignmentCoalescer(ctx.options.assignmentCoalesceMs, ctx.now);
    const answers = new AssignmentAnswers();

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
        schema: {
          tags: ["agent"],
          querystring: AssignmentsQuerySchema,
          response: { 200: AssignmentsResponseSchema, ...authErrors },
        },
      },
      async (request, reply) => {
        const device = deviceOf(request);
        const heardAt = ctx.now();
        // A device coming back is written at once (placement may use it); the rest in batches.
        if (device.status !== DeviceStatus.OFFLINE) ctx.heartbeats.heard(device.id, heardAt);
        else if (await touchDevice(ctx.db, device.id, heardAt)) {
          ctx.log.info({ event: "device.online", deviceId: device.id }, "device back online");
          ctx.placement.wake(ctx);
        }
        const since = request.query.since ?? 0;
        // Held polls must end well before the device would count as silent.
        const waitMs = Math.min(request.query.waitMs ?? 0, ctx.options.pollMaxWaitMs, ctx.options.offlineAfterMs / 2);
        const hangUp = new AbortController();
        // Only a hang-up while the poll still waits aborts it: every answered request closes
        // too, and an abort builds a DOMException (a stack trace) for nothing.
        let answered = false;
        reply.raw.once("close", () => {
          if (!answered) hangUp.abort();
        });
        const changed = await ctx.hub.waitUntil(
          deviceTopic(device.id),
          waitMs,
          async () => {
            const version = await versions.version(device.id);
            return version !== undefined && version > since ? true : undefined;
          },
          hangUp.signal,
        );
        // More of a burst of placements may be landing: a busy device gets them in one answer.
        if (changed) await pause(coalescer.delayFor(device.id), hangUp.signal);
        // A poll held a while is heard again at its end; one answered at once was heard just now.
        if (ctx.now() - heardAt >= RETOUCH_AFTER_MS) ctx.heartbeats.heard(device.id, ctx.now());
        answered = true;
        // Already JSON (kept per device): fastify sends a string with a JSON type as it is,
        // not serialized again per poll; the type provider only knows the object form.
        const json = await answers.answer(ctx, device.id);
        return reply.type("application/json; charset=utf-8").send(json as unknown as AssignmentsResponse);
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
