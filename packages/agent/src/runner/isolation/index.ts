/**
 * How this agent keeps jobs apart from itself, from each other and from the host, decided once
 * at start from what the machine allows: a user per job (root only), a cgroup per run (where
 * a hierarchy is writable), a container runtime (docker or podman), and where run folders go.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { rmdirSync } from "node:fs";
import { type CgroupLayout, cgroupLayoutAt, detectCgroupLayout, limitsNote, removeCgroupParents } from "./cgroup.js";
import { type ContainerRuntime, detectContainerRuntime } from "./container.js";
import { isRoot, JobUserPool } from "./job-user.js";
import { privateTmpObstacle } from "./private-tmp.js";
import { dropSpareFolders, makeJobsRoot } from "./run-folder.js";

export interface IsolationSettings {
  /** "pool" (default): a user per job when the agent is root. "agent": jobs run as the agent's own user. */
  jobUser: "pool" | "agent";
  /** Where run folders go; null: `/var/lib/fedml-agent/<key>` when jobs get their own users, else `<home>/runs`. */
  jobsDir: string | null;
  /** A container runtime command line, "none", or null to look for podman and docker. */
  containerRuntime: string | null;
  /** A cgroup v2 directory for the runs' cgroups; null: found from the agent's own cgroups. */
  cgroupRoot?: string | null;
}

export interface Isolation {
  /** Null: jobs run as the agent's own user. */
  users: JobUserPool | null;
  cgroups: CgroupLayout;
  container: ContainerRuntime | null;
  /** The parent of every run folder. */
  jobsRoot: string;
  /** Jobs with users of their own get the run folder's tmp/ as /tmp (a mount namespace per run). */
  privateTmp: boolean;
  /** What the agent says about it at start, one line each. */
  notes: string[];
}

/** Separates the users, cgroups and folders of several agents on one machine. */
export function agentKey(home: string): string {
  return createHash("sha256").update(home).digest("hex").slice(0, 8);
}

/** At agent shutdown: what setUpIsolation made goes, where nothing of a run is left in it. */
export function tearDownIsolation(isolation: Isolation): void {
  dropSpareFolders();
  removeCgroupParents(isolation.cgroups);
  try {
    rmdirSync(isolation.jobsRoot);
  } catch {
    // folders of failed runs kept for debugging, or shared with the agent's runs/
  }
}

export function setUpIsolation(home: string, settings: IsolationSettings): Isolation {
  const key = agentKey(home);
  const notes: string[] = [];
  const root = isRoot();
  const users = root && settings.jobUser === "pool" ? new JobUserPool(`fedml-${key}`) : null;
  if (users) notes.push(`jobs run as users fedml-${key}-N, one per live run`);
  else if (root) notes.push("jobs run as root: this agent was bound to run them as its own user");
  else notes.push("jobs run as this agent's own user (it is not root): they can read what the agent can");

  const cgroups = settings.cgroupRoot ? cgroupLayoutAt(settings.cgroupRoot, key) : detectCgroupLayout(key);
  if (cgroups.version === 0) {
    notes.push(
      `no cgroup per run (${cgroups.why}): a stop reaches the job's process group only, memory and CPU limits are not enforced`,
    );
  } else {
    notes.push(`a cgroup v${cgroups.version} per run: stop ends every process of the job; ${limitsNote(cgroups)}`);
  }

  const container = detectContainerRuntime(settings.containerRuntime);
  notes.push(
    container ? `container jobs run with ${container.command.join(" ")}` : "no container runtime: container jobs are not taken",
  );

  const jobsRoot = settings.jobsDir ?? (users ? join("/var/lib/fedml-agent", key) : join(home, "runs"));
  makeJobsRoot(jobsRoot, users !== null);
  let privateTmp = false;
  if (users) {
    const why = privateTmpObstacle(jobsRoot);
    privateTmp = why === null;
    notes.push(
      privateTmp
        ? "each job's /tmp and /var/tmp are its run folder's tmp/, removed with it"
        : `jobs share the machine's /tmp (${why}); TMPDIR is in the run folder`,
    );
  }
  return { users, cgroups, container, jobsRoot, privateTmp, notes };
}

export { type RunLimits, RunCgroup, removeCgroupParents, sweepLeftoverCgroups } from "./cgroup.js";
export { buildJobEnv } from "./job-env.js";
export type { JobIdentity } from "./job-user.js";
export {
  type JobFolder,
  dropSpareFolders,
  handOver,
  jobFolderPaths,
  makeJobFolder,
  recycleJobFolder,
  sweepJobFolders,
  takeBack,
} from "./run-folder.js";
