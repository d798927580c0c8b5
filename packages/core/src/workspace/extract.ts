import { createReadStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { pipeline, type Readable, Transform } from "node:stream";
import { createGunzip, gunzipSync } from "node:zlib";
import { Parser, type ReadEntry } from "tar";
import { FedmlError, ResultCode } from "../codes.js";
import { type ArchiveEntryInfo, findUnsafeEntry, StreamingSafetyCheck, type UnsafeEntry } from "./archive-safety.js";
import { EntryWriter } from "./entry-writer.js";

/** Reads of the archive file: big ones, since each is a trip to the thread pool. */
const READ_BYTES = 1024 * 1024;
/** Each output chunk of gunzip is a trip from zlib's thread. */
const GUNZIP_CHUNK_BYTES = 256 * 1024;
/** node-tar's own bound on tar bytes per gzip byte, against archives that expand without end. */
const MAX_DECOMPRESSION_RATIO = 1000;
/** An archive of no entries is a few dozen bytes of gzip; more than this is not one. */
const EMPTY_ARCHIVE_MAX_BYTES = 64 * 1024;

/**
 * Unpacks a workspace tar.gz into `destDir`, but only if every entry is safe: one unsafe
 * entry refuses the whole archive and nothing appears at `destDir`. (node-tar on its own
 * would skip such entries with a warning and extract the rest.)
 */
export async function extractWorkspace(tarGzFile: string, destDir: string): Promise<{ fileCount: number }> {
  if (!(await stat(tarGzFile).catch(() => null))?.isFile()) {
    throw new FedmlError(ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR, `workspace archive not found: ${tarGzFile}`);
  }
  return extractWorkspaceStream(createReadStream(tarGzFile, { highWaterMark: READ_BYTES }), destDir, tarGzFile);
}

/**
 * The same from a stream of the tar.gz (a download as it arrives), in one pass: each entry
 * is checked against what came before it and skipped unwritten if unsafe, and the whole list
 * is checked again at the end. Entries are written into a folder beside `destDir` that takes
 * its name only when the archive was read to its end and found safe, so a refused, cut or
 * corrupt archive leaves nothing at `destDir`. `name` says which archive in messages.
 */
export async function extractWorkspaceStream(source: Readable, destDir: string, name: string): Promise<{ fileCount: number }> {
  const staging = `${destDir}.${process.pid}.part`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    const { entries, unsafe } = await unpackInto(source, staging, name);
    const refused = unsafe ?? findUnsafeEntry(entries);
    if (refused !== null) {
      throw new FedmlError(
        ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR,
        `unsafe workspace archive: entry '${refused.name}' ${refused.why}`,
      );
    }
    await rm(destDir, { recursive: true, force: true });
    await rename(staging, destDir);
    return { fileCount: entries.filter((e) => e.type !== "Directory").length };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Gunzips the stream (on zlib's thread, beside the tar parsing and writing here) into
 * node-tar's Parser, writing each entry that passes the check with an EntryWriter. The
 * writes are synchronous, so when this settles nothing more is written into the staging
 * folder, whether the archive ended or failed midway. Decompression is bounded as node-tar
 * bounds its own.
 */
function unpackInto(
  source: Readable,
  cwd: string,
  name: string,
): Promise<{ entries: ArchiveEntryInfo[]; unsafe: UnsafeEntry | null }> {
  const entries: ArchiveEntryInfo[] = [];
  const check = new StreamingSafetyCheck();
  let unsafe: UnsafeEntry | null = null;
  let failure: unknown = null;
  // The start of the input, to tell an archive of no entries (which node-tar calls unrecognised).
  const head: Buffer[] = [];
  let inputBytes = 0;
  let tarBytes = 0;
  return new Promise((resolve, reject) => {
    const writer = new EntryWriter(cwd);
    const unpack = new Parser({
      strict: true,
      filter: (_path, entry) => {
        const read = entry as ReadEntry;
        const info: ArchiveEntryInfo = { path: read.path, type: read.type, linkpath: read.linkpath ?? null };
        entries.push(info);
        // After the first unsafe entry nothing more is written; the rest is read to the end only to settle.
        unsafe ??= check.add(info);
        return unsafe === null;
      },
      onReadEntry: (entry) => {
        if (failure === null) writer.write(entry, fail);
        else entry.resume();
      },
    });
    const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
    const bounded = new Transform({
      transform(chunk: Buffer, _enc, done) {
        tarBytes += chunk.length;
        if (tarBytes > inputBytes * MAX_DECOMPRESSION_RATIO) {
          done(new Error(`max decompression ratio exceeded: over ${MAX_DECOMPRESSION_RATIO}`));
        } else {
          done(null, chunk);
        }
      },
    });
    // Every write is done by the time an event is handled, so either outcome settles at once.
    const fail = (err: unknown) => {
      if (failure !== null) return;
      failure = err;
      bounded.unpipe(unpack as unknown as NodeJS.WritableStream);
      source.destroy();
      bounded.destroy();
      if (entries.length === 0 && isEmptyArchive(Buffer.concat(head), inputBytes)) resolve({ entries, unsafe: null });
      else reject(archiveError(name, failure));
    };
    unpack.on("error", fail);
    unpack.on("end", () => {
      if (failure === null) resolve({ entries, unsafe });
    });
    source.on("data", (chunk: Buffer) => {
      if (inputBytes < EMPTY_ARCHIVE_MAX_BYTES) head.push(chunk);
      inputBytes += chunk.length;
    });
    pipeline(source, gunzip, bounded, (err) => {
      if (err) fail(err);
    });
    bounded.pipe(unpack as unknown as NodeJS.WritableStream);
  });
}

/** A gzip of nothing but zero blocks: the end-of-archive marker of a tar with no entries. */
function isEmptyArchive(head: Buffer, inputBytes: number): boolean {
  if (inputBytes > EMPTY_ARCHIVE_MAX_BYTES || head.length === 0) return false;
  try {
    const tar = gunzipSync(head);
    return tar.length > 0 && tar.length % 512 === 0 && tar.every((b) => b === 0);
  } catch {
    return false;
  }
}

function archiveError(name: string, err: unknown): FedmlError {
  if (err instanceof FedmlError) return err;
  const reason = (err instanceof Error ? err.message : String(err)).split("\n")[0];
  return new FedmlError(ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR, `workspace archive ${name} cannot be unpacked: ${reason}`);
}
