import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Pack } from "tar";
import { FedmlError, ResultCode } from "../codes.js";
import { blockGzip } from "./block-gzip.js";
import { formatCap, formatMegabytes } from "./limits.js";
import { listWorkspace, type WorkspaceEntry } from "./walk.js";

export interface PackedWorkspace {
  file: string;
  sha256: string;
  /** Bytes of the tar.gz. */
  size: number;
  /** Files and symlinks (folders not counted). */
  fileCount: number;
  /** Bytes of the regular files packed. */
  unpackedBytes: number;
}

/** Every entry gets this mtime so that equal contents give an equal archive (and sha256). */
const FIXED_MTIME = new Date("2000-01-01T00:00:00Z");

export interface PackOptions {
  maxBytes: number;
  outFile: string;
  /** Entries from listWorkspace, when the caller has walked the folder already. */
  entries?: readonly WorkspaceEntry[];
  /** Called as the archive is written: tar bytes so far and about how many there will be. */
  onProgress?: (bytes: number, total: number) => void;
}

/**
 * Packs a workspace folder into a deterministic tar.gz: `.gitignore` rules honoured, `.git`
 * left out, modes and symlinks kept, no owner, fixed times. Checks the size cap before
 * writing anything; hashes the archive as it is written.
 */
export async function packWorkspace(dir: string, opts: PackOptions): Promise<PackedWorkspace> {
  await assertFolder(dir);
  const entries = opts.entries ?? (await listWorkspace(dir));
  const unpackedBytes = entries.reduce((sum, e) => sum + e.size, 0);
  if (unpackedBytes > opts.maxBytes) {
    throw new FedmlError(
      ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR,
      `workspace ${dir} holds ${formatMegabytes(unpackedBytes)}, over the ${formatCap(opts.maxBytes)} cap (set FEDML_MAX_WORKSPACE_MB or add a .gitignore)`,
    );
  }
  await mkdir(dirname(opts.outFile), { recursive: true });
  let written: { sha256: string; size: number };
  try {
    written = await writeArchive(dir, entries, opts.outFile, opts.onProgress);
  } catch (err) {
    await rm(opts.outFile, { force: true });
    throw err;
  }
  return {
    file: opts.outFile,
    sha256: written.sha256,
    size: written.size,
    fileCount: entries.filter((e) => e.kind !== "dir").length,
    unpackedBytes,
  };
}

async function assertFolder(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) {
    throw new FedmlError(ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR, `workspace not found: ${dir}`);
  }
}

/** Tar's size for these entries: a header each, files padded to 512-byte blocks, the end marker. */
function tarBytesOf(entries: readonly WorkspaceEntry[]): number {
  return entries.reduce((sum, e) => sum + 512 + Math.ceil(e.size / 512) * 512, 1024);
}

/**
 * Uses tar's Pack directly rather than `tar.create`, which would read a path starting with
 * "@" as another archive to splice in. The tar stream is gzipped here rather than by Pack so
 * that its bytes can be counted for progress, and in blocks (block-gzip.ts) so that it uses
 * more than one core and does not spend CPU on bytes that do not compress.
 */
async function writeArchive(
  dir: string,
  entries: readonly WorkspaceEntry[],
  outFile: string,
  onProgress?: (bytes: number, total: number) => void,
): Promise<{ sha256: string; size: number }> {
  const pack = new Pack({ cwd: dir, portable: true, mtime: FIXED_MTIME, noDirRecurse: true, strict: true });
  const total = tarBytesOf(entries);
  let tarBytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      tarBytes += chunk.length;
      onProgress?.(tarBytes, Math.max(total, tarBytes));
      done(null, chunk);
    },
  });
  const hash = createHash("sha256");
  let size = 0;
  const hashed = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  for (const entry of entries) pack.add(entry.rel);
  pack.end();
  await pipeline(pack, meter, blockGzip, hashed, createWriteStream(outFile));
  return { sha256: hash.digest("hex"), size };
}
