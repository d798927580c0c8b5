import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join, posix } from "node:path";
import { FedmlError, ResultCode } from "../codes.js";
import { compileGitignore, type GitignoreRules, isIgnored } from "./gitignore-rules.js";
import { findSymlinkLoop } from "./symlink-loops.js";

export interface WorkspaceEntry {
  /** Path relative to the workspace root, "/"-separated. */
  rel: string;
  kind: "dir" | "file" | "symlink";
  /** Bytes of a regular file; 0 for folders and symlinks. */
  size: number;
  /** A symlink's target as written. */
  target?: string;
  /** From lstat: what a later walk compares to tell whether anything changed. */
  mtimeMs: number;
  mode: number;
}

/**
 * Every folder, file and symlink of a workspace that git would keep, in a fixed order
 * (depth first, names sorted by code unit) so that packing is deterministic. `.git` is
 * always left out; sockets, FIFOs and devices are skipped; symlinks are not followed, must
 * stay inside the workspace and must not loop.
 */
export async function listWorkspace(root: string): Promise<WorkspaceEntry[]> {
  const entries: WorkspaceEntry[] = [];
  await walkFolder(root, "", [], entries);
  const loop = findSymlinkLoop(entries);
  if (loop !== null) {
    throw new FedmlError(
      ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR,
      `workspace ${root}: ${loop}; remove it or add it to .gitignore`,
    );
  }
  return entries;
}

/**
 * One folder's entries in order, its subfolders' after each of them. Every stat of the tree is
 * asked for at once (the walk waits on none before asking the next), so an unchanged
 * workspace of thousands of files is checked at the disk's pace, not one round trip a file.
 */
async function walkFolder(
  root: string,
  relDir: string,
  parentRules: readonly GitignoreRules[],
  out: WorkspaceEntry[],
): Promise<void> {
  for (const part of await folderEntries(root, relDir, parentRules)) out.push(...part);
}

async function folderEntries(root: string, relDir: string, parentRules: readonly GitignoreRules[]): Promise<WorkspaceEntry[][]> {
  const absDir = join(root, relDir);
  const children = await readdir(absDir, { withFileTypes: true });
  const rules = await withFolderGitignore(parentRules, absDir, relDir, children);
  const names = children.map((c) => c.name).sort(byCodeUnit);
  const kinds = new Map(children.map((c) => [c.name, c]));
  const parts: Promise<WorkspaceEntry[]>[] = [];
  for (const name of names) {
    if (name === ".git") continue;
    const dirent = kinds.get(name);
    const rel = relDir === "" ? name : `${relDir}/${name}`;
    if (dirent?.isDirectory()) {
      if (isIgnored(rules, rel, true)) continue;
      parts.push(
        Promise.all([statOf(root, rel), folderEntries(root, rel, rules)]).then(([info, below]) => [
          { rel, kind: "dir", size: 0, ...info },
          ...below.flat(),
        ]),
      );
    } else if (dirent?.isFile()) {
      if (isIgnored(rules, rel, false)) continue;
      parts.push(
        lstat(join(root, rel)).then((info) => [{ rel, kind: "file", size: info.size, mtimeMs: info.mtimeMs, mode: info.mode }]),
      );
    } else if (dirent?.isSymbolicLink()) {
      if (isIgnored(rules, rel, false)) continue;
      parts.push(
        Promise.all([assertLinkStaysInside(root, rel), statOf(root, rel)]).then(([target, info]) => [
          { rel, kind: "symlink", size: 0, target, ...info },
        ]),
      );
    }
  }
  return Promise.all(parts);
}

async function statOf(root: string, rel: string): Promise<{ mtimeMs: number; mode: number }> {
  const info = await lstat(join(root, rel));
  return { mtimeMs: info.mtimeMs, mode: info.mode };
}

async function withFolderGitignore(
  parentRules: readonly GitignoreRules[],
  absDir: string,
  relDir: string,
  children: { name: string; isFile(): boolean }[],
): Promise<readonly GitignoreRules[]> {
  if (!children.some((c) => c.name === ".gitignore" && c.isFile())) return parentRules;
  const text = await readFile(join(absDir, ".gitignore"), "utf8");
  return [...parentRules, compileGitignore(relDir, text)];
}

/** The agent refuses archives whose links leave the workspace, so say so here, early. */
async function assertLinkStaysInside(root: string, rel: string): Promise<string> {
  const target = await readlink(join(root, rel));
  const resolved = posix.normalize(posix.join(posix.dirname(rel), target));
  if (posix.isAbsolute(target) || resolved === ".." || resolved.startsWith("../")) {
    throw new FedmlError(
      ResultCode.LAUNCH_JOB_STATUS_JOB_URL_ERROR,
      `workspace ${root}: symlink '${rel}' points outside the workspace (${target}); remove it or add it to .gitignore`,
    );
  }
  return target;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
