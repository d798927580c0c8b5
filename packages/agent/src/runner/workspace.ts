/**
 * The job's working folder. Workspace archives are cached by sha256 under `<home>/cache/`
 * (downloaded once, shared by runs) and extracted into `<run>/workspace/`. The first run of
 * a workspace unpacks it as it downloads (one pass over the bytes: hashed, written to the
 * cache and extracted together; the extraction is kept only if the sha256 matches). The cache
 * is bounded: past its size the least recently used archives go, never one a live run holds.
 */
import { createHash } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { pipeline, type Readable, Transform } from "node:stream";
import { finished } from "node:stream/promises";
import { FedmlError, ResultCode } from "@fedml/core/contract";

// The packer/extractor (and `tar`) load on the first run with a workspace, not in every idle
// agent; and only they: the whole of core would bring the YAML parser and the schemas too.
const workspaceTools = () => import("@fedml/core/workspace");

/** Opens a workspace's bytes as the server sends them. */
export type DownloadWorkspace = (sha256: string) => Promise<Readable>;

/** Downloads serialise per sha so that two runs of one workspace fetch it once. */
const inFlight = new Map<string, Promise<string>>();

function assertSha256(sha256: string): void {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new FedmlError(ResultCode.ERROR, `workspace id "${sha256}" is not a sha256`);
}

const cacheFileOf = (home: string, sha256: string) => join(home, "cache", `${sha256}.tar.gz`);

/** The cached archive's path, downloading it first when it is not cached. */
export function cachedWorkspace(home: string, sha256: string, download: DownloadWorkspace): Promise<string> {
  try {
    assertSha256(sha256);
  } catch (err) {
    return Promise.reject(err);
  }
  return once(home, sha256, () => fetchIntoCache(home, sha256, download, null));
}

function once(home: string, sha256: string, fetch: () => Promise<string>): Promise<string> {
  const key = `${home}\0${sha256}`;
  const pending = inFlight.get(key);
  if (pending) return pending;
  const file = cacheFileOf(home, sha256);
  if (existsSync(file)) {
    // The file's mtime is its last use: the eviction order.
    const now = new Date();
    utimesSync(file, now, now);
    return Promise.resolve(file);
  }
  const promise = fetch().finally(() => inFlight.delete(key));
  inFlight.set(key, promise);
  return promise;
}

/**
 * Downloads into the cache, hashing as the bytes arrive; with `unpackInto`, extracts them there
 * at the same time. Nothing is kept (neither the archive nor the extraction) unless the sha256
 * matches.
 */
async function fetchIntoCache(
  home: string,
  sha256: string,
  download: DownloadWorkspace,
  unpackInto: string | null,
): Promise<string> {
  const file = cacheFileOf(home, sha256);
  mkdirSync(join(home, "cache"), { recursive: true });
  const partial = `${file}.${process.pid}.part`;
  const hash = createHash("sha256");
  const out = createWriteStream(partial);
  const written = finished(out);
  // Awaited only on success; a failure elsewhere is the one reported.
  written.catch(() => {});
  // Each chunk goes on once the file has taken it, so a slow disk holds back the download.
  const tee = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      out.write(chunk, (err) => done(err, chunk));
    },
  });
  try {
    const source = await download(sha256);
    const bytes = pipeline(source, tee, () => {});
    if (unpackInto === null) {
      bytes.resume();
      await finished(bytes);
    } else {
      const { extractWorkspaceStream } = await workspaceTools();
      await extractWorkspaceStream(bytes, unpackInto, `workspace ${sha256}`);
    }
    out.end();
    await written;
    const actual = hash.digest("hex");
    if (actual !== sha256) {
      if (unpackInto !== null) rmSync(unpackInto, { recursive: true, force: true });
      throw new FedmlError(ResultCode.ERROR, `workspace ${sha256} arrived corrupted (its sha256 is ${actual})`);
    }
    renameSync(partial, file);
    return file;
  } finally {
    out.destroy();
    rmSync(partial, { force: true });
  }
}

/** The job's cwd: the extracted workspace, or an empty folder when the run has none. */
export async function prepareWorkspace(
  home: string,
  runFolder: string,
  sha256: string | null,
  download: DownloadWorkspace,
): Promise<string> {
  const dir = join(runFolder, "workspace");
  if (!sha256) {
    // A run folder comes without one, or with an empty one (a spare folder): either will do.
    mkdirSync(dir, { recursive: true });
    if (readdirSync(dir).length > 0) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
    }
    return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  assertSha256(sha256);
  let unpacked = false;
  const file = await once(home, sha256, async () => {
    unpacked = true;
    return fetchIntoCache(home, sha256, download, dir);
  });
  if (!unpacked) {
    const { extractWorkspace } = await workspaceTools();
    await extractWorkspace(file, dir);
  }
  return dir;
}

/** Live runs' holds on cached archives (sha256 -> count), per home. */
const holds = new Map<string, Map<string, number>>();

/** A live run needs this archive: eviction leaves it alone until `releaseWorkspace`. */
export function holdWorkspace(home: string, sha256: string): void {
  const held = holds.get(home) ?? new Map<string, number>();
  held.set(sha256, (held.get(sha256) ?? 0) + 1);
  holds.set(home, held);
}

export function releaseWorkspace(home: string, sha256: string): void {
  const held = holds.get(home);
  const count = held?.get(sha256) ?? 0;
  if (count <= 1) held?.delete(sha256);
  else held?.set(sha256, count - 1);
}

export interface CachedArchive {
  sha256: string;
  bytes: number;
  lastUsedMs: number;
}

/** Which archives to evict so the rest fit in maxBytes: least recently used first, held ones never. Pure. */
export function chooseEvictions(archives: readonly CachedArchive[], maxBytes: number, held: ReadonlySet<string>): string[] {
  let total = archives.reduce((sum, a) => sum + a.bytes, 0);
  const evict: string[] = [];
  for (const archive of [...archives].sort((a, b) => a.lastUsedMs - b.lastUsedMs)) {
    if (total <= maxBytes) break;
    if (held.has(archive.sha256)) continue;
    evict.push(archive.sha256);
    total -= archive.bytes;
  }
  return evict;
}

/** Bounds `<home>/cache` to maxBytes; answers the evicted sha256s. */
export function evictWorkspaceCache(home: string, maxBytes: number): string[] {
  const cacheDir = join(home, "cache");
  let names: string[];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return [];
  }
  const archives: CachedArchive[] = [];
  for (const name of names) {
    const match = /^([0-9a-f]{64})\.tar\.gz$/.exec(name);
    if (!match) continue;
    try {
      const stat = statSync(join(cacheDir, name));
      archives.push({ sha256: match[1], bytes: stat.size, lastUsedMs: stat.mtimeMs });
    } catch {
      // removed meanwhile
    }
  }
  const held = new Set(holds.get(home)?.keys() ?? []);
  const evicted = chooseEvictions(archives, maxBytes, held);
  for (const sha of evicted) rmSync(join(cacheDir, `${sha}.tar.gz`), { force: true });
  return evicted;
}
