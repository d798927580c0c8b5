import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyPluginAsync } from "fastify";
import { assertAdmin, requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { launchRun } from "../runs/launch.js";
import { ownedRun, toRunModels } from "../runs/lookup.js";
import { stopRun } from "../runs/stop.js";
import { parseRowId } from "../store/ids.js";
import { DEFAULT_RUN_LIST_LIMIT, listOwnerRuns, parseRunCursor, runCursorOf } from "../store/runs.js";
import { assertOnPlatform, platformFilter } from "../runs/platform.js";
import {
  LaunchRequestSchema,
  LaunchResultSchema,
  PlatformQuerySchema,
  RunIdParams,
  RunListQuerySchema,
  RunListSchema,
  RunSchema,
  StopRunResponseSchema,
  authErrors,
} from "./schemas.js";
import { listUsers } from "../store/users.js";

export function runRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    const preHandler = requireUser(ctx);

    app.post(
      "/runs",
      {
        preHandler,
        schema: { tags: ["runs"], body: LaunchRequestSchema, response: { 200: LaunchResultSchema, ...authErrors } },
      },
      async (request) => launchRun(ctx, userOf(request), request.body),
    );

    app.get(
      "/runs",
      {
        preHandler,
        schema: { tags: ["runs"], querystring: RunListQuerySchema, response: { 200: RunListSchema, ...authErrors } },
      },
      async (request) => {
        const { runName, runId, platform, status, limit, allUsers, nameContains, project, before } = request.query;
        const id = runId !== undefined ? parseRowId(runId) : undefined;
        if (runId !== undefined && id === undefined) return { runList: [] };
        const user = userOf(request);
        if (allUsers) assertAdmin(user);
        const runs = await listOwnerRuns(ctx.db, allUsers ? null : user.id, {
          name: runName || undefined,
          nameContains,
          id,
          platform: platformFilter(platform) ?? undefined,
          project,
          statuses: status?.split(","),
          limit,
          before: before === undefined ? undefined : parseRunCursor(before),
        });
        const last = runs.at(-1);
        // Only when the list stopped at its limit: a list that fits has no next page (and no field).
        const next = last && runs.length === (limit ?? DEFAULT_RUN_LIST_LIMIT) ? { nextCursor: runCursorOf(last) } : {};
        const models = await toRunModels(ctx, runs);
        if (!allUsers) return { runList: models, ...next };
        const owners = new Map((await listUsers(ctx.db)).map((u) => [u.id, u.name]));
        return {
          runList: models.map((m, i) => ({ ...m, ownerName: owners.get(runs[i].owner_id) ?? String(runs[i].owner_id) })),
          ...next,
        };
      },
    );

    app.get(
      "/runs/:id",
      {
        preHandler,
        schema: {
          tags: ["runs"],
          params: RunIdParams,
          querystring: PlatformQuerySchema,
          response: { 200: RunSchema, ...authErrors },
        },
      },
      async (request) => {
        const run = await ownedRun(ctx, userOf(request).id, request.params.id);
        assertOnPlatform(run, request.query.platform);
        return (await toRunModels(ctx, [run]))[0];
      },
    );

    app.post(
      "/runs/:id/stop",
      {
        preHandler,
        schema: {
          tags: ["runs"],
          params: RunIdParams,
          querystring: PlatformQuerySchema,
          response: { 200: StopRunResponseSchema, ...authErrors },
        },
      },
      async (request) => {
        const run = await ownedRun(ctx, userOf(request).id, request.params.id);
        assertOnPlatform(run, request.query.platform);
        return stopRun(ctx, run.id);
      },
    );
  };
}
