/**
 * A run's folder: `job/` (the workspace, the job's HOME and TMPDIR, its scripts) belongs to
 * the job's user with mode 0700, so another run's user cannot look in; the folder above it
 * is root's and only traversable. When the run ends `job/` goes back to root (kept a while
 * on failure for debugging, else removed at once).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
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
  if (isolated) chmodSync(dir, 0o711);
}

export function makeJobFolder(root: string, owner: JobIdentity | null): JobFolder {
  const folder = jobFolderPaths(root);
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
    if (isLive(name)) continue;
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
