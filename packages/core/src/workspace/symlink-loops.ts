import { posix } from "node:path";

export interface LinkEntry {
  /** Path relative to the workspace root, "/"-separated. */
  rel: string;
  kind: "dir" | "file" | "symlink";
  /** A symlink's target as written. */
  target?: string;
}

const MAX_HOPS = 40;

/**
 * Why following the workspace's symlinks would never end, or null: a chain of links that
 * comes back to itself (a -> b -> a), or a link to a folder on its own path (sub/up -> ..),
 * directly or through other links. Such a tree unpacks, but every job or tool that walks it
 * (a copy, a search, a Python package scan) loops; the packer refuses it before uploading.
 * Pure: works on the walk's entries, touches no disk.
 */
export function findSymlinkLoop(entries: readonly LinkEntry[]): string | null {
  const links = new Map<string, string>();
  const dirs = new Set<string>(["."]);
  for (const e of entries) {
    if (e.kind === "symlink" && e.target !== undefined) links.set(e.rel, e.target);
    if (e.kind === "dir") dirs.add(e.rel);
  }
  // Folder -> folders reachable in one step: its subfolders, and the folders its links lead to.
  const next = new Map<string, { to: string; via: string | null }[]>();
  const edge = (from: string, to: string, via: string | null) => {
    const list = next.get(from) ?? [];
    list.push({ to, via });
    next.set(from, list);
  };
  for (const d of dirs) if (d !== ".") edge(parentOf(d), d, null);
  for (const rel of links.keys()) {
    let target: string;
    try {
      target = realPath(rel, links, []);
    } catch (err) {
      if (err instanceof LinkLoop) return err.message;
      throw err;
    }
    if (dirs.has(target)) edge(parentOf(rel), target, rel);
  }
  return cycleFrom(".", next);
}

class LinkLoop extends Error {}

function parentOf(rel: string): string {
  const dir = posix.dirname(rel);
  return dir === "" ? "." : dir;
}

/** Where `rel` leads once every link on the way is followed (within the workspace). */
function realPath(rel: string, links: ReadonlyMap<string, string>, stack: string[]): string {
  const parts = rel.split("/").filter((p) => p !== "" && p !== ".");
  let resolved: string[] = [];
  for (const part of parts) {
    if (part === "..") {
      resolved.pop();
      continue;
    }
    resolved.push(part);
    const here = resolved.join("/");
    const target = links.get(here);
    if (target === undefined) continue;
    if (stack.includes(here)) {
      const start = stack.indexOf(here);
      throw new LinkLoop(`symlink '${here}' is part of a loop (${[...stack.slice(start), here].join(" -> ")})`);
    }
    if (stack.length >= MAX_HOPS) throw new LinkLoop(`symlink '${stack[0]}' goes through more than ${MAX_HOPS} links`);
    stack.push(here);
    const base = resolved.slice(0, -1).join("/") || ".";
    const to = realPath(posix.join(base, target), links, stack);
    stack.pop();
    resolved = to === "." ? [] : to.split("/");
  }
  return resolved.join("/") || ".";
}

/** Depth first from the root: a link edge back to a folder on the current path is a loop. */
function cycleFrom(root: string, next: ReadonlyMap<string, { to: string; via: string | null }[]>): string | null {
  const onPath = new Set<string>();
  const done = new Set<string>();
  const frames: { dir: string; i: number }[] = [{ dir: root, i: 0 }];
  onPath.add(root);
  while (frames.length > 0) {
    const frame = frames[frames.length - 1];
    const out = next.get(frame.dir) ?? [];
    if (frame.i >= out.length) {
      onPath.delete(frame.dir);
      done.add(frame.dir);
      frames.pop();
      continue;
    }
    const { to, via } = out[frame.i++];
    if (onPath.has(to)) {
      return `symlink '${via}' points to a folder that holds it (${to === "." ? "the workspace" : to}): following it never ends`;
    }
    if (done.has(to)) continue;
    onPath.add(to);
    frames.push({ dir: to, i: 0 });
  }
  return null;
}
