import { createReadStream } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { extract, list } from "tar";
import { FedmlError, ResultCode } from "../codes.js";
import { type ArchiveEntryInfo, findUnsafeEntry } from "./archive-safety.js";

/**
 * Unpacks a workspace tar.gz into `destDir`, but only after every entry has been checked:
 * one unsafe entry refuses the whole archive and nothing is written. (node-tar on its own
 * would skip such entries with a warning and extract the rest.)
 */
export async function extractWorkspace(tarGzFile: string, destDir: string): Promise<{ fileCount: number }> {
  const entries = await listEntries(tarGzFile);
  if (entries.length === 0) {
    // An empty folder packs to a bare end-of-archive, which tar's reader calls unrecognised.
    await mkdir(destDir, { recursive: true });
    return { fileCount: 0 };
  }
  const unsafe = findUnsafeEntry(entries);
  if (unsafe !== null) {
    throw new FedmlError(
      ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR,
      `unsafe workspace archive: entry '${unsafe.name}' ${unsafe.why}`,
    );
  }
  await mkdir(destDir, { recursive: true });
  try {
    await extract({ file: tarGzFile, cwd: destDir, strict: true, preserveOwner: false });
  } catch (err) {
    throw archiveError(tarGzFile, err);
  }
  return { fileCount: entries.filter((e) => e.type !== "Directory").length };
}

async function listEntries(tarGzFile: string): Promise<ArchiveEntryInfo[]> {
  if (!(await stat(tarGzFile).catch(() => null))?.isFile()) {
    throw new FedmlError(ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR, `workspace archive not found: ${tarGzFile}`);
  }
  const entries: ArchiveEntryInfo[] = [];
  try {
    await list({
      file: tarGzFile,
      strict: true,
      onReadEntry: (entry) => {
        entries.push({ path: entry.path, type: entry.type, linkpath: entry.linkpath ?? null });
      },
    });
  } catch (err) {
    if (entries.length === 0 && (await isEmptyArchive(tarGzFile))) return [];
    throw archiveError(tarGzFile, err);
  }
  return entries;
}

/** A gzip of nothing but zero blocks: the end-of-archive marker of a tar with no entries. */
async function isEmptyArchive(tarGzFile: string): Promise<boolean> {
  let seen = 0;
  try {
    for await (const piece of createReadStream(tarGzFile).pipe(createGunzip())) {
      const buf = piece as Buffer;
      seen += buf.length;
      if (seen > 64 * 1024 || buf.some((b) => b !== 0)) return false;
    }
  } catch {
    return false;
  }
  return seen > 0 && seen % 512 === 0;
}

function archiveError(tarGzFile: string, err: unknown): FedmlError {
  if (err instanceof FedmlError) return err;
  const reason = (err instanceof Error ? err.message : String(err)).split("\n")[0];
  return new FedmlError(
    ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR,
    `workspace archive ${tarGzFile} cannot be unpacked: ${reason}`,
  );
}
