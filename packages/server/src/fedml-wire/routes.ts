import { FedmlError, ResultCode } from "@fedml/core";
import type { FastifyPluginAsync } from "fastify";
import type { ServerContext } from "../context.js";
import { ownedRun, toRunModels } from "../runs/lookup.js";
import { assertOnPlatform, platformFilter } from "../runs/platform.js";
import { stopRun } from "../runs/stop.js";
import { devicesById } from "../store/devices.js";
import { parseRowId } from "../store/ids.js";
import { decodeGpus } from "../store/json-columns.js";
import { listOwnerRuns } from "../store/runs.js";
import { findWireUser, wireUser } from "./auth.js";
import { bodyOf, count, names, text } from "./body.js";
import { wireAutostop, wireClusterAction, wireClusterStatus, wireConfirmMachines } from "./clusters.js";
import { failure, failureOf, success } from "./envelope.js";
import { toWireJob } from "./job-view.js";
import { wireLogPage } from "./logs.js";
import { registerApplication, registerApplicationConfig, runApplication } from "./launch.js";
import { DEFAULT_WIRE_OBJECT_LIMITS, WireObjects } from "./object-store.js";
import { WIRE_BUCKET, wireS3Routes } from "./s3-routes.js";

/**
 * S3 credentials handed to every caller of configs/fetch: the object endpoint checks no
 * signature, since anyone may ask for these; an upload binds to a user only when registered.
 */
const WIRE_S3_ACCESS_KEY = "fedml-wire";
const WIRE_S3_SECRET_KEY = "fedml-wire-public";

/** Where the official client's base URL points (its `local` environment version). */
export const WIRE_PREFIX = "/fedmlOpsServer";

function runNotFound(runId: string): FedmlError {
  return new FedmlError(ResultCode.JOB_NOT_EXISTS, `run ${runId} not found`, 404);
}

/**
 * The official FedML Python client's wire protocol, as an adapter over the native run, log
 * and user services: every answer is HTTP 200 with a {code, message, data} envelope, and
 * every failure (bad input included) a FAILURE with a one-line message.
 */
export function fedmlWireRoutes(ctx: ServerContext, limits = DEFAULT_WIRE_OBJECT_LIMITS): FastifyPluginAsync {
  const objects = new WireObjects(ctx.db, limits, ctx.now);
  return async (app) => {
    await app.register(opsRoutes(ctx, objects), { prefix: WIRE_PREFIX });
    await app.register(wireS3Routes(objects), { prefix: `/${WIRE_BUCKET}` });
  };
}

function opsRoutes(ctx: ServerContext, objects: WireObjects): FastifyPluginAsync {
  return async (app) => {
    // Not in the native API's OpenAPI document: these calls follow the official client, not our contract.
    const hidden = { schema: { hide: true } };
    app.setErrorHandler((err, request, reply) => {
      const { envelope, internal } = failureOf(err);
      if (internal) request.log.error({ err }, "fedml wire request failed");
      return reply.status(200).send(envelope);
    });
    app.setNotFoundHandler((request, reply) =>
      reply.status(200).send(failure(`no such call: ${request.method} ${request.url.split("?")[0]}`)),
    );

    // Unauthenticated in the original too: what it hands out is public (see object-store.ts).
    app.post("/configs/fetch", hidden, async () =>
      success({
        mqtt_config: {},
        s3_config: {
          BUCKET_NAME: WIRE_BUCKET,
          CN_S3_AKI: WIRE_S3_ACCESS_KEY,
          CN_S3_SAK: WIRE_S3_SECRET_KEY,
          CN_REGION_NAME: "us-east-1",
          CN_S3_ENDPOINT: ctx.publicUrl(),
        },
        docker_config: {},
        ml_ops_config: {},
      }),
    );

    app.post("/api/v1/application/updateApplicationFromCli", hidden, async (request) => {
      const body = bodyOf(request.body);
      const user = await wireUser(ctx, body);
      await registerApplication(ctx, objects, user, body);
      return success("registered");
    });

    app.post("/api/v1/application/updateApplicationConfigFromCli", hidden, async (request) => {
      const body = bodyOf(request.body);
      const user = await wireUser(ctx, body);
      await registerApplicationConfig(ctx, user, body);
      return success("registered");
    });

    app.post("/api/v1/application/runApplicationFromCli", hidden, async (request) => {
      const body = bodyOf(request.body);
      const user = await wireUser(ctx, body);
      try {
        const data = await runApplication(ctx, user, body);
        return data.job_url ? success(data) : { ...failure(data.message), data };
      } catch (err) {
        // Only an empty job_url makes the client report the launch as failed.
        const { envelope } = failureOf(err);
        if (!(err instanceof FedmlError)) throw err;
        return { ...envelope, data: { job_id: "", job_url: "", message: envelope.message, user_check: false } };
      }
    });

    for (const [path, action] of [
      ["startCluster", "start"],
      ["stopCluster", "stop"],
      ["shutDownCluster", "kill"],
    ] as const) {
      app.post(`/api/v1/cli/${path}`, hidden, async (request) => {
        const body = bodyOf(request.body);
        const user = await wireUser(ctx, body);
        return success(await wireClusterAction(ctx, user, action, names(body, "clusterNameList")));
      });
    }

    app.post("/api/v1/cli/getClusterStatus", hidden, async (request) => {
      const body = bodyOf(request.body);
      const user = await wireUser(ctx, body);
      return success(await wireClusterStatus(ctx, user, names(body, "clusterNameList")));
    });

    app.post("/api/v1/cli/setAutomaticStopTime", hidden, async (request) => {
      const body = bodyOf(request.body);
      const user = await wireUser(ctx, body);
      const name = text(body, "clusterName", { max: 64 });
      const minutes = body.time;
      if (typeof minutes !== "number" || !Number.isFinite(minutes) || minutes < 0 || minutes > 10_000_000) {
        throw new FedmlError(
          ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
          "time must be a number of minutes, 0 or more",
          400,
        );
      }
      return success(await wireAutostop(ctx, user, name, minutes));
    });

    app.post("/api/v1/cli/confirmClusterMachines", hidden, async (request) => {
      const body = bodyOf(request.body);
      const user = await wireUser(ctx, body);
      return success(await wireConfirmMachines(ctx, user, text(body, "clusterId", { max: 64 })));
    });

    app.post("/api/v1/cli/heartBeat", hidden, async (request) => {
      const user = await findWireUser(ctx, bodyOf(request.body));
      // The client takes the key as valid only on SUCCESS with data === true.
      return user ? success(true) : { ...failure(`API key not accepted by ${ctx.publicUrl()}`), data: false };
    });

    app.post("/api/v1/platform/queryJobList", hidden, async (request) => {
      const body = bodyOf(request.body);
      const user = await wireUser(ctx, body, "userApiKey");
      const jobId = text(body, "jobId", { optional: true, max: 64 });
      const jobName = text(body, "jobName", { optional: true });
      const platform = platformFilter(text(body, "platformType", { optional: true, max: 64 }));
      const id = jobId ? parseRowId(jobId) : undefined;
      if (jobId && id === undefined) throw runNotFound(jobId);
      const runs = await listOwnerRuns(ctx.db, user.id, { id, name: jobName || undefined, platform: platform ?? undefined });
      // An empty jobList crashes the client's run_status and run_logs: no match is a FAILURE.
      if (runs.length === 0) throw runNotFound(jobId || jobName || "(any)");
      const models = await toRunModels(ctx, runs);
      const devices = await devicesById(
        ctx.db,
        models.flatMap((m) => m.deviceInfos.map((d) => Number(d.deviceId))),
      );
      const gpuNameOf = (deviceId: string) => {
        const device = devices.get(Number(deviceId));
        return device ? decodeGpus(device.gpus_json)[0]?.name : undefined;
      };
      return success({ jobList: models.map((m) => toWireJob(m, gpuNameOf)) });
    });

    app.post("/api/v1/log/getLogsFromCli", hidden, async (request) => {
      const body = bodyOf(request.body);
      const user = await wireUser(ctx, body);
      const runId = text(body, "runId", { max: 64 });
      const pageNum = count(body, "pageNum", 1, 1_000_000_000);
      const pageSize = count(body, "pageSize", 10, 100_000);
      const run = await ownedRun(ctx, user.id, runId);
      return success(await wireLogPage(ctx, run, pageNum, pageSize));
    });

    app.post("/api/v1/application/stopApplicationFromCli", hidden, async (request) => {
      const body = bodyOf(request.body);
      const user = await wireUser(ctx, body);
      const jobId = text(body, "jobId", { max: 64 });
      const run = await ownedRun(ctx, user.id, jobId);
      assertOnPlatform(run, text(body, "platformType", { optional: true, max: 64 }));
      const stopped = await stopRun(ctx, run.id);
      return success({ jobId: String(run.id), stopped: stopped.stopped, status: stopped.status });
    });
  };
}
