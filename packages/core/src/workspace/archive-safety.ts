/** What extraction needs to know of one archive entry before writing anything. */
export interface ArchiveEntryInfo {
  path: string;
  /** node-tar's type name: File, Directory, SymbolicLink, Link, FIFO, CharacterDevice, ... */
  type: string;
  linkpath?: string | null;
}

export interface UnsafeEntry {
  name: string;
  why: string;
}

const ALLOWED_TYPES = new Set(["File", "OldFile", "ContiguousFile", "Directory", "SymbolicLink", "Link"]);
const REFUSED_TYPE_WHY: Readonly<Record<string, string>> = {
  CharacterDevice: "is a character device",
  BlockDevice: "is a block device",
  FIFO: "is a FIFO",
};
/** Linux's own limit on symlinks followed while resolving one path. */
const MAX_LINK_HOPS = 40;

/**
 * The first entry that could write or point outside the destination folder, or null when
 * the whole archive is safe. Links are resolved the way the filesystem will see them after
 * extraction, following the archive's own symlinks.
 */
export function findUnsafeEntry(entries: readonly ArchiveEntryInfo[]): UnsafeEntry | null {
  const symlinks = new Map<string, string>();
  for (const e of entries) {
    if (e.type === "SymbolicLink") symlinks.set(normalizedKey(e.path), e.linkpath ?? "");
  }
  const seen = new Set<string>();
  for (const entry of entries) {
    const why = whyUnsafe(entry, symlinks, seen);
    if (why !== null) return { name: entry.path, why };
  }
  return null;
}

/**
 * The same checks entry by entry as an archive streams in, each entry against the symlinks
 * seen so far: what is on disk when it is written. Extraction uses it to skip an unsafe entry
 * before writing it; `findUnsafeEntry` over the whole list still decides at the end.
 */
export class StreamingSafetyCheck {
  private readonly symlinks = new Map<string, string>();
  private readonly seen = new Set<string>();

  add(entry: ArchiveEntryInfo): UnsafeEntry | null {
    if (entry.type === "SymbolicLink") this.symlinks.set(normalizedKey(entry.path), entry.linkpath ?? "");
    const why = whyUnsafe(entry, this.symlinks, this.seen);
    return why === null ? null : { name: entry.path, why };
  }
}

function whyUnsafe(entry: ArchiveEntryInfo, symlinks: ReadonlyMap<string, string>, seen: Set<string>): string | null {
  const { path, type } = entry;
  if (REFUSED_TYPE_WHY[type]) return REFUSED_TYPE_WHY[type];
  if (!ALLOWED_TYPES.has(type)) return `has unsupported type ${type}`;
  if (isAbsolutePath(path)) return "has an absolute path";
  const segments = segmentsOf(path);
  if (segments.includes("..")) return "climbs out with '..'";
  if (segments.length === 0) return type === "Directory" ? null : "has an empty name";
  const key = segments.join("/");
  if (seen.has(key)) return "appears twice";
  seen.add(key);
  for (let i = 1; i < segments.length; i++) {
    const parent = segments.slice(0, i).join("/");
    if (symlinks.has(parent)) return `lies under the symlink '${parent}'`;
  }
  const target = entry.linkpath ?? "";
  if (type === "SymbolicLink") {
    if (target === "") return "is a symlink with no target";
    if (isAbsolutePath(target)) return `is a symlink to the absolute path '${target}'`;
    if (resolveInside(symlinks, segments.slice(0, -1), target, 0) === null) {
      return `is a symlink that points outside the workspace ('${target}')`;
    }
  }
  if (type === "Link") {
    if (target === "" || isAbsolutePath(target) || resolveInside(symlinks, [], target, 0) === null) {
      return `is a hard link to '${target}' outside the workspace`;
    }
  }
  return null;
}

/**
 * Walks `target` from the folder `base` (segments below the root), following the archive's
 * symlinks; null when the walk leaves the root (or loops).
 */
function resolveInside(
  symlinks: ReadonlyMap<string, string>,
  base: readonly string[],
  target: string,
  hops: number,
): string[] | null {
  if (hops > MAX_LINK_HOPS || isAbsolutePath(target)) return null;
  let parts = [...base];
  for (const segment of target.split(/[\\/]+/)) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (parts.length === 0) return null;
      parts.pop();
      continue;
    }
    parts.push(segment);
    const link = symlinks.get(parts.join("/"));
    if (link !== undefined) {
      const resolved = resolveInside(symlinks, parts.slice(0, -1), link, hops + 1);
      if (resolved === null) return null;
      parts = resolved;
    }
  }
  return parts;
}

function isAbsolutePath(path: string): boolean {
  return path.startsWith("/") || path.startsWith("\\") || /^[A-Za-z]:/.test(path);
}

function segmentsOf(path: string): string[] {
  return path.split(/[\\/]+/).filter((s) => s !== "" && s !== ".");
}

function normalizedKey(path: string): string {
  return segmentsOf(path).join("/");
}
