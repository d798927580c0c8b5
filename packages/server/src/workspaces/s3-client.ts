import { randomUUID } from "node:crypto";
import { DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { type S3Settings, S3StoreError, describeBucket } from "./s3-settings.js";

export function makeS3Client(s: S3Settings): S3Client {
  // The pinned SDK supports Node 20; its notice about later releases is a multi-line warning
  // on every server start that tells an operator nothing they can act on.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return new S3Client({
    region: s.region,
    endpoint: s.endpoint,
    forcePathStyle: s.pathStyle,
    credentials:
      s.accessKeyId !== undefined && s.secretAccessKey !== undefined
        ? { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey.reveal() }
        : undefined,
    // Self-hosted S3 servers do not all know the newer default checksum headers; parts are
    // checked with Content-MD5 on the way in and with their sha256 on the way out.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** What an S3 failure means for an operator, on one line, naming no credential. */
export function s3FailureReason(err: unknown, s: S3Settings): string {
  const e = err as { name?: string; Code?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.Code ?? e.name ?? "";
  const status = e.$metadata?.httpStatusCode;
  switch (name) {
    case "SignatureDoesNotMatch":
      return `the secret access key of ${s.accessKeyId ?? "the configured key id"} was not accepted (SignatureDoesNotMatch)`;
    case "InvalidAccessKeyId":
      return `access key id ${s.accessKeyId ?? "(from the environment)"} is not known there (InvalidAccessKeyId)`;
    case "NoSuchBucket":
      return "the bucket does not exist (NoSuchBucket)";
    case "AccessDenied":
      return `access denied to ${s.accessKeyId ?? "the configured key"} (AccessDenied)`;
    case "CredentialsProviderError":
      return "no credentials: set FEDML_S3_ACCESS_KEY_ID and FEDML_S3_SECRET_ACCESS_KEY (or its _FILE)";
  }
  const sys = e.code ?? (err as { cause?: { code?: string } }).cause?.code;
  if (sys) return `cannot reach it (${sys})`;
  const firstLine = (e.message ?? String(err)).split("\n")[0].slice(0, 200);
  return `${name || "error"}${status ? ` (HTTP ${status})` : ""}: ${firstLine}`;
}

/**
 * Writes and deletes a small object, so a server with a wrong key, secret or bucket says so
 * once, at start, rather than on the first workspace someone uploads.
 */
export async function probeS3(client: S3Client, s: S3Settings): Promise<void> {
  const key = `${s.prefix}.probe-${randomUUID()}`;
  try {
    await client.send(new PutObjectCommand({ Bucket: s.bucket, Key: key, Body: "fedml-server probe" }));
    await client.send(new DeleteObjectCommand({ Bucket: s.bucket, Key: key }));
  } catch (err) {
    throw new S3StoreError(`workspace store ${describeBucket(s)}: ${s3FailureReason(err, s)}`);
  }
}
