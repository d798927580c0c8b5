import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { DeviceStatus, FedmlError, ResultCode } from "@fedml/core";
import type { FastifyBaseLogger, FastifyPluginAsync, FastifyReply } from "fastify";
import { setTimeout as sleep } from "node:timers/promises";
import { deviceOf, requireDevice, requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { AssignmentCoalescer } from "../devices/assignment-coalescing.js";
import { AssignmentAnswers } from "../devices/assignments.js";
import { DeviceVersionReader } from "../devices/device-versions.js";
import { HeldPolls } from "../devices/held-polls.js";
import { helloDevice } from "../devices/hello.js";
import { registerDevice } from "../devices/register.js";
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

/** The server's own logger for a request, instead of a child of its own. */
function serverLogger(logger: FastifyBaseLogger): FastifyBaseLogger {
  return logger;
}

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
    const held = new HeldPolls<FastifyReply>({
      hub: ctx.hub,
      changed: async (deviceId, since) => {
        const version = await versions.version(deviceId);
        return version !== undefined && version > since;
      },
      // A hang-up is found on the shared tick (within a second): a listener and a map entry
      // per poll lived, and were promoted, with every held poll.
      gone: (reply) => reply.raw.destroyed,
      answer: (poll, reply, changed, error) => {
        if (error !== undefined) failPoll(reply, error);
        else answerPoll(reply, poll.deviceId, poll.heardAt, changed).catch((err: unknown) => failPoll(reply, err));
      },
    });

    /** The poll's answer, once its wait ended (`changed`: the device's version moved). */
    async function answerPoll(reply: FastifyReply, deviceId: number, heardAt: number, changed: boolean): Promise<void> {
      // More of a burst of placements may be landing: a busy device gets them in one answer.
      if (changed) {
        const delayMs = coalescer.delayFor(deviceId);
        if (delayMs > 0) await sleep(delayMs);
      }
      // A poll held a while is heard again at its end; one answered at once was heard just now.
      if (ctx.now() - heardAt >= RETOUCH_AFTER_MS) ctx.heartbeats.heard(deviceId, ctx.now());
      // Already JSON (kept per device): fastify sends a string with a JSON type as it is,
      // not serialized again per poll.
      const json = await answers.answer(ctx, deviceId);
      reply.type("application/json; charset=utf-8").send(json);
    }

    /** A failure after the handler returned: fastify's error handler answers it as it would a thrown one. */
    function failPoll(reply: FastifyReply, err: unknown): void {
      reply.send(err);
    }

    /** Holds the poll; the agent hanging up ends the wait. */
    function holdPoll(reply: FastifyReply, deviceId: number, since: number, waitMs: number, heardAt: number): void {
      held.hold(deviceId, since, waitMs, heardAt, reply);
    }

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
        const device = deviceOf(request);
        const heardAt = ctx.now();
        const since = request.query.since ?? 0;
        // Held polls must end well before the device would count as silent.
        const waitMs = Math.min(request.query.waitMs ?? 0, ctx.options.pollMaxWaitMs, ctx.options.offlineAfterMs / 2);
        // A device coming back is written at once (placement may use it); the rest in batches.
        if (device.status !== DeviceStatus.OFFLINE) {
          ctx.heartbeats.heard(device.id, heardAt);
          holdPoll(reply, device.id, since, waitMs, heardAt);
          return;
        }
        touchDevice(ctx.db, device.id, heardAt).then(
          (revived) => {
            if (revived) {
              ctx.log.info({ event: "device.online", deviceId: device.id }, "device back online");
              ctx.placement.wake(ctx);
            }
            holdPoll(reply, device.id, since, waitMs, heardAt);
          },
          (err: unknown) => failPoll(reply, err),
        );
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
