/**
 * A run's folder: `job/` (the workspace, the job's HOME and TMPDIR, its scripts) belongs to
 * the job's user with mode 0700, so another run's user cannot look in; the folder above it
 * is root's and only traversable. When the run ends `job/` goes back to root (kept a while
 * on failure for debugging, else removed at once).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, utimesSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { JobIdentity } from "./job-user.js";

export interface JobFolder {
  /** The run's folder (under the agent's jobs root). */
  root: string;
  /** The job's cwd. */
  workspace: string;
  home: string;
  tmp: string;
  /** Where bootstrap.sh and job.sh are written. */
  scripts: string;
}

export function jobFolderPaths(root: string): JobFolder {
  const job = join(root, "job");
  return { root, workspace: join(job, "workspace"), home: join(job, "home"), tmp: join(job, "tmp"), scripts: job };
}

/** The jobs root: only root can list it, any job user can go through it to its own folder. */
export function makeJobsRoot(dir: string, isolated: boolean): void {
  mkdirSync(dir, { recursive: true, mode: isolated ? 0o711 : 0o700 });
  // An earlier agent's spare folders: it alone knew them to be empty.
  rmSync(spareDir(dir), { recursive: true, force: true });
  spareDirsMade.delete(dir);
  if (isolated) chmodSync(dir, 0o711);
}

export function makeJobFolder(root: string, owner: JobIdentity | null): JobFolder {
  const folder = jobFolderPaths(root);
  if (!owner && takeSpare(root)) return folder;
  rmSync(folder.scripts, { recursive: true, force: true });
  mkdirSync(root, { recursive: true, mode: 0o711 });
  for (const dir of [folder.scripts, folder.home, folder.tmp]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (owner) chmodSync(root, 0o711);
  return folder;
}

/** Gives `job/` (workspace extracted, scripts written) to the job's user. */
export function handOver(folder: JobFolder, owner: JobIdentity | null): void {
  if (!owner) return;
  execFileSync("chown", ["-R", "-P", `${owner.uid}:${owner.gid}`, folder.scripts]);
}

/** Takes `job/` back from the job's user: its next holder must not read what this run left. */
export function takeBack(folder: JobFolder, owner: JobIdentity | null): void {
  if (!owner) return;
  try {
    execFileSync("chown", ["-R", "-P", "0:0", folder.scripts]);
  } catch {
    // a file the job made unreadable to chown: removing the folder below still works
  }
}

/**
 * Empty folders of ended runs, by parent, ready for the next run: taking one is a rename
 * where making one is five mkdirs (and its removal as many rmdirs). Each mkdir allocates an
 * inode, and on a file system that is not journalled ext4 skips the inodes freed in the
 * last minutes on every allocation: with short jobs coming and going that scan is most of
 * what a run folder costs. Only folders of jobs that ran as the agent's own user are kept
 * (they own nothing another user could reach), only when nothing of the job can outlive it
 * (its cgroup was emptied), and only as they were made: the job left nothing in them.
 */
const spares = new Map<string, string[]>();
const MAX_SPARES = 16;
let spareSeq = 0;
/** Parents whose spare folder this process has made (and not removed): no mkdir per recycled run. */
const spareDirsMade = new Set<string>();

function spareDir(parent: string): string {
  return join(parent, ".spare");
}

function takeSpare(root: string): boolean {
  const spare = spares.get(dirname(root))?.pop();
  if (!spare) return false;
  try {
    renameSync(spare, root);
    // Its age is the run's: a failed run's folder is kept so long after it ended.
    const now = new Date();
    utimesSync(root, now, now);
    return true;
  } catch {
    rmSync(spare, { recursive: true, force: true });
    return false;
  }
}

/**
 * Keeps the folder of an ended run for the next one when the job left it as it was made
 * (its own scripts aside); answers false, leaving it in place, otherwise.
 */
export function recycleJobFolder(folder: JobFolder): boolean {
  const parent = dirname(folder.root);
  const pool = spares.get(parent) ?? [];
  if (pool.length >= MAX_SPARES || !isPristine(folder)) return false;
  if (!spareDirsMade.has(parent)) {
    mkdirSync(spareDir(parent), { recursive: true, mode: 0o700 });
    spareDirsMade.add(parent);
  }
  const spare = join(spareDir(parent), `${process.pid}-${spareSeq++}`);
  try {
    renameSync(folder.root, spare);
  } catch {
    return false;
  }
  pool.push(spare);
  spares.set(parent, pool);
  return true;
}

const SCRIPTS = new Set(["job.sh", "bootstrap.sh"]);

function isPristine(folder: JobFolder): boolean {
  try {
    if (readdirSync(folder.root).join("/") !== basename(folder.scripts)) return false;
    const names = readdirSync(folder.scripts);
    for (const name of names) if (SCRIPTS.has(name)) unlinkSync(join(folder.scripts, name));
    const made = [basename(folder.home), basename(folder.tmp), basename(folder.workspace)].sort().join("/");
    if (
      names
        .filter((name) => !SCRIPTS.has(name))
        .sort()
        .join("/") !== made
    )
      return false;
    const uid = process.getuid?.() ?? -1;
    for (const dir of [folder.root, folder.scripts, folder.home, folder.tmp, folder.workspace]) {
      const stat = lstatSync(dir);
      // As made: a directory of the agent's that no other user may write to.
      if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o022) !== 0) return false;
    }
    return [folder.home, folder.tmp, folder.workspace].every((dir) => readdirSync(dir).length === 0);
  } catch {
    return false;
  }
}

/** The spare folders go (the agent is idle or stopping): the disk holds nothing of ended runs. */
export function dropSpareFolders(): void {
  for (const [parent, pool] of spares) {
    spares.delete(parent);
    if (pool.length > 0 || spareDirsMade.has(parent)) rmSync(spareDir(parent), { recursive: true, force: true });
    spareDirsMade.delete(parent);
  }
}

/** Removes run folders under `jobsRoot` older than `keepMs` whose run `isLive` does not claim. */
export function sweepJobFolders(
  jobsRoot: string,
  keepMs: number,
  isLive: (runId: string) => boolean,
  now = Date.now(),
): string[] {
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(jobsRoot);
  } catch {
    return removed;
  }
  for (const name of names) {
    // Dot names are not runs (spare folders, kept by this agent).
    if (name.startsWith(".") || isLive(name)) continue;
    const dir = join(jobsRoot, name);
    try {
      if (now - statSync(dir).mtimeMs < keepMs) continue;
    } catch {
      continue;
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
