import type { Readable } from "node:stream";
import { FedmlError, ResultCode } from "@fedml/core";
import type { FastifyPluginAsync } from "fastify";
import { requireUser } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { ErrorBodySchema, PutWorkspaceResponseSchema, Sha256Params, authErrors } from "./schemas.js";

const BLOB_TYPES = ["application/gzip", "application/x-gzip", "application/octet-stream"];

export function workspaceRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (app) => {
    // Hand the raw stream to the route: blobs go to disk, never into memory.
    app.addContentTypeParser(BLOB_TYPES, (_request, payload, done) => done(null, payload));

    const exists = async (request: { params: { sha256: string } }, reply: import("fastify").FastifyReply) => {
      const { sha256 } = request.params;
      if (!ctx.blobs.has(sha256)) {
        throw new FedmlError(ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR, `workspace ${sha256} is not on this server`, 404);
      }
      reply.header("content-length", String(ctx.blobs.sizeOf(sha256)));
      return reply.status(200).send();
    };
    app.head<{ Params: { sha256: string } }>(
      "/workspaces/:sha256",
      { preHandler: requireUser(ctx), schema: { tags: ["workspaces"], params: Sha256Params } },
      exists,
    );
    app.get<{ Params: { sha256: string } }>(
      "/workspaces/:sha256",
      { preHandler: requireUser(ctx), schema: { tags: ["workspaces"], params: Sha256Params }, exposeHeadRoute: false },
      exists,
    );

    app.put<{ Params: { sha256: string } }>(
      "/workspaces/:sha256",
      {
        preHandler: requireUser(ctx),
        bodyLimit: ctx.options.maxWorkspaceBytes,
        schema: {
          tags: ["workspaces"],
          params: Sha256Params,
          response: { 200: PutWorkspaceResponseSchema, 413: ErrorBodySchema, ...authErrors },
        },
      },
      async (request) => {
        const declared = Number(request.headers["content-length"] ?? Number.NaN);
        if (declared > ctx.options.maxWorkspaceBytes) {
          throw tooLarge(ctx.options.maxWorkspaceBytes);
        }
        const body = request.body as Readable | undefined;
        if (!body || typeof (body as Readable).pipe !== "function") {
          throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `send the workspace as ${BLOB_TYPES[0]}`, 400);
        }
        const { sha256 } = request.params;
        const stored = await ctx.blobs.put(sha256, body, ctx.options.maxWorkspaceBytes);
        return { sha256, size: stored.size, created: stored.created };
      },
    );
  };
}

function tooLarge(max: number): FedmlError {
  return new FedmlError(
    ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
    `workspace is larger than this server accepts (${max} bytes)`,
    413,
  );
}
