/**
 * Packing once per change: the last archive of each workspace folder is kept under
 * `<FEDML_HOME>/workspaces/` with an index of what it was packed from (every entry's path,
 * kind, size, mtime and mode). A launch whose folder walks to the same index reuses the
 * archive and its sha256 without reading a file; a changed or new folder is packed again.
 */
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { listWorkspace, packWorkspace, type WorkspaceEntry } from "@fedml/core";

export interface PackedArchive {
  file: string;
  sha256: string;
  size: number;
  unpackedBytes: number;
  /** True when the archive of an earlier launch was reused. */
  reused: boolean;
}

interface IndexFile {
  version: 1;
  fingerprint: string;
  sha256: string;
  size: number;
  unpackedBytes: number;
  /** When packing began: files changed within the clock's granularity of it are not trusted. */
  packedAt: number;
}

/** Kept archives; the least recently used go beyond these. */
const KEEP_ARCHIVES = 8;
const KEEP_BYTES = 2 * 1024 ** 3;
/** Filesystems with coarse mtimes (ext3, HFS+, FAT) may not show an edit made this close to a pack. */
const MTIME_SLACK_MS = 2000;

export function cacheDirOf(home: string): string {
  return join(home, "workspaces");
}

/** Every field ends in NUL, which no path or link target holds, so no two listings read alike. */
function fingerprintOf(entries: readonly WorkspaceEntry[]): string {
  const fields: string[] = [];
  for (const e of entries) fields.push(`${e.rel}\0${e.kind}\0${e.size}\0${e.mtimeMs}\0${e.mode}\0${e.target ?? ""}\0`);
  return createHash("sha256").update(fields.join("")).digest("hex");
}

function readIndex(file: string): IndexFile | null {
  try {
    const index = JSON.parse(readFileSync(file, "utf8")) as IndexFile;
    return index.version === 1 ? index : null;
  } catch {
    return null;
  }
}

export async function packOrReuse(
  dir: string,
  home: string,
  maxBytes: number,
  onProgress?: (bytes: number, total: number) => void,
  now: () => number = Date.now,
): Promise<PackedArchive> {
  const cacheDir = cacheDirOf(home);
  const key = createHash("sha256").update(dir).digest("hex").slice(0, 32);
  const indexFile = join(cacheDir, `${key}.json`);
  const archive = join(cacheDir, `${key}.tar.gz`);
  const startedAt = now();
  const entries = await listWorkspace(dir);
  const fingerprint = fingerprintOf(entries);
  const index = readIndex(indexFile);
  // Only a file's bytes can change unseen; a folder's entries and a link's target are in the index.
  const newest = entries.reduce((max, e) => (e.kind === "file" ? Math.max(max, e.mtimeMs) : max), 0);
  if (
    index &&
    index.fingerprint === fingerprint &&
    newest < index.packedAt - MTIME_SLACK_MS &&
    index.unpackedBytes <= maxBytes &&
    sizeOf(archive) === index.size
  ) {
    touch(indexFile, now());
    return { file: archive, sha256: index.sha256, size: index.size, unpackedBytes: index.unpackedBytes, reused: true };
  }
  await mkdir(cacheDir, { recursive: true });
  const partial = `${archive}.${process.pid}.part`;
  try {
    const packed = await packWorkspace(dir, { maxBytes, outFile: partial, entries, onProgress });
    await rename(partial, archive);
    const fresh: IndexFile = {
      version: 1,
      fingerprint,
      sha256: packed.sha256,
      size: packed.size,
      unpackedBytes: packed.unpackedBytes,
      packedAt: startedAt,
    };
    writeFileSync(indexFile, JSON.stringify(fresh));
    pruneArchives(cacheDir, key);
    return { file: archive, sha256: packed.sha256, size: packed.size, unpackedBytes: packed.unpackedBytes, reused: false };
  } finally {
    await rm(partial, { force: true });
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return -1;
  }
}

/** The index's mtime says when the archive was last used, for pruning. */
function touch(file: string, at: number): void {
  try {
    utimesSync(file, new Date(at), new Date(at));
  } catch {}
}

/** Keeps the most recently used archives within KEEP_ARCHIVES and KEEP_BYTES; `keep` stays. */
function pruneArchives(cacheDir: string, keep: string): void {
  const kept = readdirSync(cacheDir)
    .filter((name) => name.endsWith(".json"))
    .map((name) => {
      const key = name.slice(0, -".json".length);
      const used = statSync(join(cacheDir, name)).mtimeMs;
      return { key, used, bytes: Math.max(0, sizeOf(join(cacheDir, `${key}.tar.gz`))) };
    })
    .sort((a, b) => (a.key === keep ? -1 : b.key === keep ? 1 : b.used - a.used));
  let bytes = 0;
  kept.forEach((entry, i) => {
    bytes += entry.bytes;
    if (entry.key !== keep && (i >= KEEP_ARCHIVES || bytes > KEEP_BYTES)) {
      rmSync(join(cacheDir, `${entry.key}.json`), { force: true });
      rmSync(join(cacheDir, `${entry.key}.tar.gz`), { force: true });
    }
  });
}
