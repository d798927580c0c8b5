import { createWriteStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { Pack } from "tar";
import { FedmlError, ResultCode } from "../codes.js";
import { formatCap, formatMegabytes } from "./limits.js";
import { sha256File } from "./sha256.js";
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

/**
 * Packs a workspace folder into a deterministic tar.gz: `.gitignore` rules honoured, `.git`
 * left out, modes and symlinks kept, no owner, fixed times. Checks the size cap before
 * writing anything.
 */
export async function packWorkspace(dir: string, opts: { maxBytes: number; outFile: string }): Promise<PackedWorkspace> {
  await assertFolder(dir);
  const entries = await listWorkspace(dir);
  const unpackedBytes = entries.reduce((sum, e) => sum + e.size, 0);
  if (unpackedBytes > opts.maxBytes) {
    throw new FedmlError(
      ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR,
      `workspace ${dir} holds ${formatMegabytes(unpackedBytes)}, over the ${formatCap(opts.maxBytes)} cap (set FEDML_MAX_WORKSPACE_MB or add a .gitignore)`,
    );
  }
  await mkdir(dirname(opts.outFile), { recursive: true });
  try {
    await writeArchive(dir, entries, opts.outFile);
  } catch (err) {
    await rm(opts.outFile, { force: true });
    throw err;
  }
  return {
    file: opts.outFile,
    sha256: await sha256File(opts.outFile),
    size: (await stat(opts.outFile)).size,
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

/**
 * Uses tar's Pack directly rather than `tar.create`, which would read a path starting with
 * "@" as another archive to splice in.
 */
function writeArchive(dir: string, entries: readonly WorkspaceEntry[], outFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const pack = new Pack({
      cwd: dir,
      portable: true,
      gzip: true,
      mtime: FIXED_MTIME,
      noDirRecurse: true,
      strict: true,
    });
    const out = createWriteStream(outFile);
    pack.on("error", (err: unknown) => {
      out.destroy();
      reject(err);
    });
    out.on("error", reject);
    out.on("close", () => resolve());
    pack.pipe(out);
    for (const entry of entries) pack.add(entry.rel);
    pack.end();
  });
}
