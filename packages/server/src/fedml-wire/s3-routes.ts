import { createHash } from "node:crypto";
import type { FastifyPluginAsync, FastifyReply } from "fastify";
import { decodeAwsChunked, isAwsChunked } from "./aws-chunked.js";
import type { WireObjects } from "./object-store.js";

/** The bucket configs/fetch names; objects are addressed path-style, /{bucket}/{key}. */
export const WIRE_BUCKET = "fedml";

const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";

function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function bodyBytes(body: unknown): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.alloc(0);
}

function xml(reply: FastifyReply, body: string) {
  return reply.status(200).type("application/xml").send(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function s3Error(reply: FastifyReply, status: number, code: string, message: string) {
  return reply
    .status(status)
    .type("application/xml")
    .send(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`);
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
      if (!key) return s3Error(reply, 400, "InvalidRequest", "name an object key");
      const raw = bodyBytes(request.body);
      const body = isAwsChunked(request.headers) ? decodeAwsChunked(raw) : raw;
      if (!body) return s3Error(reply, 400, "IncompleteBody", "the aws-chunked body is not well framed");
      const refused =
        query.uploadId !== undefined
          ? await objects.putPart(query.uploadId, Number(query.partNumber), body)
          : await objects.put(key, body);
      if (refused) return s3Error(reply, 400, "InvalidRequest", refused);
      return reply
        .header("etag", `"${createHash("md5").update(body).digest("hex")}"`)
        .status(200)
        .send();
    });

    app.get("/*", { schema: { hide: true } }, async (request, reply) => {
      const bytes = await objects.get(keyOf(request.params));
      if (!bytes) return s3Error(reply, 404, "NoSuchKey", "no such object");
      return reply.type("application/octet-stream").send(bytes);
    });

    // Multipart, as boto3 does above its threshold: ?uploads begins, ?uploadId=U completes.
    app.post("/*", { schema: { hide: true } }, async (request, reply) => {
      const key = keyOf(request.params);
      const query = request.query as Record<string, string | undefined>;
      if (!key) return s3Error(reply, 400, "InvalidRequest", "name an object key");
      if (query.uploads !== undefined) {
        const uploadId = await objects.startMultipart(key);
        return xml(
          reply,
          `<InitiateMultipartUploadResult xmlns="${S3_NS}"><Bucket>${WIRE_BUCKET}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
        );
      }
      if (query.uploadId !== undefined) {
        const parts = [
          ...bodyBytes(request.body)
            .toString("utf8")
            .matchAll(/<PartNumber>\s*(\d{1,5})\s*<\/PartNumber>/g),
        ].map((m) => Number(m[1]));
        const done = await objects.completeMultipart(query.uploadId, parts);
        if ("refused" in done) return s3Error(reply, 400, "InvalidPart", done.refused);
        const etag = `"${createHash("md5")
          .update((await objects.get(key)) ?? Buffer.alloc(0))
          .digest("hex")}-${parts.length}"`;
        return xml(
          reply,
          `<CompleteMultipartUploadResult xmlns="${S3_NS}"><Location>/${WIRE_BUCKET}/${escapeXml(key)}</Location><Bucket>${WIRE_BUCKET}</Bucket><Key>${escapeXml(key)}</Key><ETag>${escapeXml(etag)}</ETag></CompleteMultipartUploadResult>`,
        );
      }
      return s3Error(reply, 400, "InvalidRequest", "POST needs ?uploads or ?uploadId");
    });

    app.delete("/*", { schema: { hide: true } }, async (request, reply) => {
      const query = request.query as Record<string, string | undefined>;
      if (query.uploadId !== undefined) await objects.abortMultipart(query.uploadId);
      return reply.status(204).send();
    });
  };
}
