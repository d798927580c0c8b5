/**
 * Resumable upload of a packed workspace: the server keeps what arrived in committed chunks
 * and says how much it has, so an interrupted upload (a dropped connection, a killed CLI)
 * goes on from there instead of from the start.
 */
import { createReadStream } from "node:fs";
import { Readable, Transform } from "node:stream";
import { FedmlError, Paths, ResultCode, type UploadState } from "@fedml/core";
import { type Endpoint, errorFromResponse, send } from "../http.js";

export interface UploadProgress {
  /** Bytes of the archive the server has (counting what it had before this upload). */
  bytes: number;
  total: number;
  /** Where this upload started: more than 0 when it resumed an earlier one. */
  from: number;
}

export interface UploadResult {
  /** The server had it (for this user) already: nothing was sent. */
  present: boolean;
  /** Bytes sent by this call. */
  sent: number;
  /** Where the upload started (0 unless it resumed). */
  from: number;
}

const ATTEMPTS = 4;
const unreachableCode = ResultCode.LAUNCH_JOB_STATUS_REQUEST_FAILED;

export async function uploadWorkspace(
  endpoint: Endpoint,
  archive: { file: string; sha256: string; size: number },
  opts: { onProgress?: (p: UploadProgress) => void; signal?: AbortSignal } = {},
): Promise<UploadResult> {
  const path = Paths.workspace(archive.sha256);
  const head = await send("HEAD", path, endpoint, { unreachableCode, signal: opts.signal });
  if (head.ok) return { present: true, sent: 0, from: archive.size };
  if (head.status === 401 || head.status === 403) {
    // A HEAD answer has no body to carry the server's message.
    throw new FedmlError(
      ResultCode.ERROR,
      `the FedML server at ${endpoint.serverUrl} rejected the API key (HTTP ${head.status})`,
    );
  }
  if (head.status !== 404) throw await errorFromResponse("HEAD", path, head);
  let sent = 0;
  let from = -1;
  let lastError: unknown = null;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const state = await uploadState(endpoint, `${path}/upload`, opts.signal);
    if (state.complete) return { present: false, sent, from: Math.max(from, 0) };
    const offset = state.size === archive.size ? state.receivedBytes : 0;
    if (from < 0) from = offset;
    let moved = 0;
    try {
      const answer = await sendFrom(
        endpoint,
        `${path}/upload`,
        archive,
        offset,
        (bytes) => {
          moved += bytes;
          sent += bytes;
          opts.onProgress?.({ bytes: offset + moved, total: archive.size, from });
        },
        opts.signal,
      );
      if (answer.complete) return { present: false, sent, from };
    } catch (err) {
      if (opts.signal?.aborted || !(err instanceof Retry)) throw err;
      lastError = err.cause;
      // The server may still be settling the cut request: give it a moment before asking again.
      await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
    }
  }
  throw new FedmlError(
    unreachableCode,
    `the workspace upload to ${endpoint.serverUrl} did not complete after ${ATTEMPTS} attempts${lastError ? `: ${(lastError as Error).message}` : ""}`,
  );
}

class Retry extends Error {}

async function uploadState(endpoint: Endpoint, path: string, signal?: AbortSignal): Promise<UploadState> {
  const res = await send("GET", path, endpoint, { unreachableCode, signal });
  if (!res.ok) throw await errorFromResponse("GET", path, res);
  return (await res.json()) as UploadState;
}

/** One PATCH with the archive's bytes from `offset`; a cut connection or a 409 is worth another try. */
async function sendFrom(
  endpoint: Endpoint,
  path: string,
  archive: { file: string; size: number },
  offset: number,
  onBytes: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<UploadState> {
  let counted = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      counted += chunk.length;
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  // Big reads: each chunk costs a trip through the stream, web-stream and HTTP layers.
  const body = createReadStream(archive.file, { start: offset, highWaterMark: 1024 * 1024 }).pipe(meter);
  const headers: Record<string, string> = {
    "content-type": "application/octet-stream",
    "upload-offset": String(offset),
    "upload-length": String(archive.size),
  };
  if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;
  let res: Response;
  try {
    res = await fetch(new URL(path, `${endpoint.serverUrl.replace(/\/+$/, "")}/`), {
      method: "PATCH",
      headers,
      body: Readable.toWeb(body) as ReadableStream,
      duplex: "half",
      signal,
    } as RequestInit);
  } catch (err) {
    body.destroy();
    onBytes(-counted);
    throw new Retry("upload interrupted", { cause: err });
  }
  if (res.status === 409) {
    await res.body?.cancel();
    onBytes(-counted);
    throw new Retry("the server holds a different part of the upload", { cause: new Error(`HTTP 409 at byte ${offset}`) });
  }
  if (!res.ok) throw await errorFromResponse("PATCH", path, res);
  return (await res.json()) as UploadState;
}
