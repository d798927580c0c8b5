import { createHash } from "node:crypto";
import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type { WireObjects } from "./object-store.js";

/** The bucket configs/fetch names; objects are addressed path-style, /{bucket}/{key}. */
export const WIRE_BUCKET = "fedml";

function s3Error(reply: FastifyReply, status: number, code: string, message: string) {
  return reply
    .status(status)
    .type("application/xml")
    .send(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

/** The path-style S3 PUT and GET the official client uses for its job package (boto3 against CN_S3_ENDPOINT). */
export function wireS3Routes(objects: WireObjects): FastifyPluginAsync {
  return async (app) => {
    // Any body type: boto3 sends none, newer versions may say binary/octet-stream.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: objects.limits.maxObjectBytes }, (_req, body, done) =>
      done(null, body),
    );
    app.setErrorHandler((error, _request, reply) => {
      const err = error as { statusCode?: number; message: string };
      const status = typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      return s3Error(reply, status, status === 413 ? "EntityTooLarge" : "InvalidRequest", err.message);
    });
    const keyOf = (params: unknown) => (params as { "*": string })["*"];

    app.put("/*", { schema: { hide: true } }, async (request, reply) => {
      const key = keyOf(request.params);
      const query = request.query as Record<string, string | undefined>;
      if (query.partNumber !== undefined || query.uploadId !== undefined) {
        return s3Error(reply, 501, "NotImplemented", "multipart upload is not supported by this server");
      }
      if (!key) return s3Error(reply, 400, "InvalidRequest", "name an object key");
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const refused = objects.put(key, body);
      if (refused) return s3Error(reply, 400, "InvalidRequest", refused);
      return reply
        .header("etag", `"${createHash("md5").update(body).digest("hex")}"`)
        .status(200)
        .send();
    });

    app.get("/*", { schema: { hide: true } }, async (request, reply) => {
      const bytes = objects.get(keyOf(request.params));
      if (!bytes) return s3Error(reply, 404, "NoSuchKey", "no such object");
      return reply.type("application/octet-stream").send(bytes);
    });

    app.post("/*", { schema: { hide: true } }, async (_request, reply) =>
      s3Error(reply, 501, "NotImplemented", "multipart upload is not supported by this server"),
    );
  };
}
