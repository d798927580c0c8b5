import { createHash } from "node:crypto";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Static } from "@sinclair/typebox";
import type { Readable } from "node:stream";
import { FedmlError, ResultCode, type UploadState } from "@fedml/core";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { addBlobUser, createUpload, findBlob, findUpload, markBlobCorrupt } from "../store/workspace-blobs.js";
import { compareWithBlob } from "../workspaces/compare.js";
import { useWorkspace, workspaceNotFound } from "../workspaces/access.js";
import { evictLeastRecentlyUsed, makeRoom } from "../workspaces/evict.js";
import { workspaceTooLarge } from "../workspaces/limits.js";
import { UploadConflict, completeUpload, receiveBytes } from "../workspaces/upload.js";
import { errorBody } from "./errors.js";
import {
  ErrorBodySchema,
  PutWorkspaceResponseSchema,
  Sha256Params,
  UploadConflictSchema,
  UploadStateSchema,
  authErrors,
} from "./schemas.js";

const BLOB_TYPES = ["application/gzip", "application/x-gzip", "application/octet-stream"];

function streamOf(request: FastifyRequest): Readable {
  const body = request.body as Readable | undefined;
  if (!body || typeof body.pipe !== "function") {
    throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `send the workspace as ${BLOB_TYPES[0]}`, 400);
  }
  return body;
}

function byteHeader(request: FastifyRequest, name: string): number {
  const raw = request.headers[name];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || !/^\d{1,15}$/.test(text)) {
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      `header ${name} must be a whole number of bytes${text === undefined ? "" : `, not ${text.slice(0, 40)}`}`,
      400,
    );
  }
  return Number(text);
}

export function workspaceRoutes(ctx: ServerContext): FastifyPluginAsync {
  const limits = () => ({
    maxWorkspaceBytes: ctx.options.maxWorkspaceBytes,
    workspaceStoreBytes: ctx.options.workspaceStoreBytes,
    userWorkspaceBytes: ctx.options.userWorkspaceBytes,
  });

  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    // Hand the raw stream to the route: blobs go to the store chunk by chunk, never whole into memory.
    app.addContentTypeParser(BLOB_TYPES, (_request, payload, done) => done(null, payload));

    const exists = async ({ sha256 }: Static<typeof Sha256Params>, request: FastifyRequest, reply: FastifyReply) => {
      const blob = await useWorkspace(ctx.db, sha256, userOf(request).id, ctx.now());
      if (!blob) throw workspaceNotFound(sha256);
      reply.header("content-length", String(blob.size));
      return reply.status(200).send();
    };
    app.head(
      "/workspaces/:sha256",
      { preHandler: requireUser(ctx), schema: { tags: ["workspaces"], params: Sha256Params } },
      (request, reply) => exists(request.params, request, reply),
    );
    app.get(
      "/workspaces/:sha256",
      { preHandler: requireUser(ctx), schema: { tags: ["workspaces"], params: Sha256Params }, exposeHeadRoute: false },
      (request, reply) => exists(request.params, request, reply),
    );

    app.put(
      "/workspaces/:sha256",
      {
        preHandler: requireUser(ctx),
        bodyLimit: ctx.options.maxWorkspaceBytes,
        schema: {
          tags: ["workspaces"],
          params: Sha256Params,
          response: {
            200: PutWorkspaceResponseSchema,
            409: ErrorBodySchema,
            413: ErrorBodySchema,
            507: ErrorBodySchema,
            ...authErrors,
          },
        },
      },
      async (request) => {
        const { sha256 } = request.params;
        const userId = userOf(request).id;
        const declared = Number(request.headers["content-length"] ?? Number.NaN);
        if (declared > ctx.options.maxWorkspaceBytes) throw workspaceTooLarge(ctx.options.maxWorkspaceBytes);
        const body = streamOf(request);
        const held = await findBlob(ctx.db, sha256);
        if (held && !held.corrupt) {
          // The server has these bytes: the user shows it has them too (compared byte for byte with
          // the stored copy), and may use them from now on.
          const sent = await compareWithBlob(ctx.db, ctx.blobs, held, body, ctx.options.maxWorkspaceBytes);
          if (sent.storedDamaged) {
            await markBlobCorrupt(ctx.db, sha256, held.upload_id);
            request.log.error({ event: "workspace.corrupt", sha256 }, "stored workspace differs from the bytes uploaded again");
            throw new FedmlError(
              ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
              `the server's copy of workspace ${sha256} was damaged and is dropped: upload it again`,
              409,
            );
          }
          if (!sent.same) {
            throw new FedmlError(
              ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
              `workspace upload has sha256 ${sent.sha256}, not ${sha256} as named`,
              400,
            );
          }
          await makeRoom(ctx.db, ctx.blobs, limits(), userId, held.size, sha256);
          await addBlobUser(ctx.db, sha256, userId, ctx.now());
          return { sha256, size: sent.size, created: false };
        }
        const size = Number.isInteger(declared) ? declared : null;
        await makeRoom(ctx.db, ctx.blobs, limits(), userId, size ?? 0, sha256);
        const upload = await createUpload(ctx.db, sha256, userId, size, ctx.now());
        const whole = createHash("sha256");
        let received: number;
        try {
          received = await receiveBytes(ctx.db, ctx.blobs, upload, 0, body, ctx.options.maxWorkspaceBytes, ctx.now, whole);
        } catch (err) {
          // A whole-body PUT does not resume: what arrived is of no use.
          await ctx.blobs.drop(ctx.db, upload.id);
          throw err;
        }
        const stored = await completeUpload(ctx.db, ctx.blobs, { ...upload, size: received }, ctx.now(), whole.digest("hex"));
        if (size === null) await evictLeastRecentlyUsed(ctx.db, ctx.blobs, ctx.options.workspaceStoreBytes, sha256);
        return { sha256, size: received, created: stored.created };
      },
    );

    app.get(
      "/workspaces/:sha256/upload",
      {
        preHandler: requireUser(ctx),
        schema: { tags: ["workspaces"], params: Sha256Params, response: { 200: UploadStateSchema, ...authErrors } },
      },
      async (request): Promise<UploadState> => {
        const { sha256 } = request.params;
        const userId = userOf(request).id;
        const blob = await useWorkspace(ctx.db, sha256, userId, ctx.now());
        if (blob) return { sha256, size: blob.size, receivedBytes: blob.size, complete: true };
        const upload = await findUpload(ctx.db, sha256, userId);
        return { sha256, size: upload?.size ?? null, receivedBytes: upload?.received ?? 0, complete: false };
      },
    );

    app.patch(
      "/workspaces/:sha256/upload",
      {
        preHandler: requireUser(ctx),
        bodyLimit: ctx.options.maxWorkspaceBytes,
        schema: {
          tags: ["workspaces"],
          params: Sha256Params,
          response: {
            200: UploadStateSchema,
            409: UploadConflictSchema,
            413: ErrorBodySchema,
            507: ErrorBodySchema,
            ...authErrors,
          },
        },
      },
      async (request, reply) => {
        const { sha256 } = request.params;
        const userId = userOf(request).id;
        const offset = byteHeader(request, "upload-offset");
        const size = byteHeader(request, "upload-length");
        if (size > ctx.options.maxWorkspaceBytes) throw workspaceTooLarge(ctx.options.maxWorkspaceBytes);
        const body = streamOf(request);
        const done = await useWorkspace(ctx.db, sha256, userId, ctx.now());
        if (done) {
          body.resume();
          return { sha256, size: done.size, receivedBytes: done.size, complete: true };
        }
        try {
          let upload = await findUpload(ctx.db, sha256, userId);
          if (upload && upload.size !== size && offset === 0) {
            await ctx.blobs.drop(ctx.db, upload.id);
            upload = undefined;
          }
          if (!upload) {
            if (offset !== 0) throw new UploadConflict(`no upload of ${sha256} has begun: start at byte 0`, 0);
            await makeRoom(ctx.db, ctx.blobs, limits(), userId, size, sha256);
            upload = await createUpload(ctx.db, sha256, userId, size, ctx.now());
          } else if (upload.size !== size) {
            throw new UploadConflict(`the upload of ${sha256} was begun with ${upload.size} bytes, not ${size}`, upload.received);
          }
          // Hashed on the way in when this request carries the whole upload, so it is not read back.
          const whole = offset === 0 ? createHash("sha256") : undefined;
          const received = await receiveBytes(
            ctx.db,
            ctx.blobs,
            upload,
            offset,
            body,
            ctx.options.maxWorkspaceBytes,
            ctx.now,
            whole,
          );
          if (received < size) return { sha256, size, receivedBytes: received, complete: false };
          const stored = await completeUpload(ctx.db, ctx.blobs, { ...upload, size }, ctx.now(), whole?.digest("hex"));
          return { sha256, size, receivedBytes: size, complete: true, created: stored.created };
        } catch (err) {
          if (!(err instanceof UploadConflict)) throw err;
          body.resume();
          return reply.status(409).send({ ...errorBody(err.resultCode, err.message), receivedBytes: err.receivedBytes });
        }
      },
    );
  };
}
