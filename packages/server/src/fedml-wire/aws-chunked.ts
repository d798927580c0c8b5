/**
 * The body of an S3 PUT whose `x-amz-content-sha256` is `STREAMING-...` (newer boto3 sends
 * `aws-chunked` bodies): `<hex size>[;chunk-signature=...]\r\n<bytes>\r\n` repeated, ending with a
 * zero-size chunk and optional trailer lines. Signatures are not checked (see configs/fetch).
 * Answers the payload, or null when the framing is broken. Pure.
 */
export function decodeAwsChunked(body: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf("\r\n", at);
    if (lineEnd < 0) return null;
    const header = body.subarray(at, lineEnd).toString("latin1");
    const match = /^([0-9a-fA-F]{1,16})(;.*)?$/.exec(header);
    if (!match) return null;
    const size = Number.parseInt(match[1], 16);
    at = lineEnd + 2;
    if (size === 0) return Buffer.concat(parts);
    if (at + size + 2 > body.length || body.subarray(at + size, at + size + 2).toString("latin1") !== "\r\n") return null;
    parts.push(body.subarray(at, at + size));
    at += size + 2;
  }
}

export function isAwsChunked(headers: Record<string, string | string[] | undefined>): boolean {
  const sha = headers["x-amz-content-sha256"];
  const encoding = headers["content-encoding"];
  return (
    (typeof sha === "string" && sha.startsWith("STREAMING-")) ||
    (typeof encoding === "string" && encoding.includes("aws-chunked"))
  );
}
