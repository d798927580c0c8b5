/**
 * A job's /tmp and /var/tmp are its own: in a mount namespace of the run's, the run folder's
 * `tmp/` is bind-mounted over both before the job drops to its user. What the job writes
 * there goes with the run folder; nothing of it is left in the machine's /tmp, and no job
 * sees another's files there. Needs root (a new mount namespace), so only jobs that get a
 * user of their own run this way; the others get TMPDIR in their run folder only.
 */
import { execFileSync } from "node:child_process";
import { realpathSync } from "node:fs";

/** Mounts `$1` over /tmp and /var/tmp, then runs the rest as the job's user. */
const MOUNT_THEN_DROP = 'mount --bind "$1" /tmp && mount --bind "$1" /var/tmp && shift && exec "$@"';

/**
 * Why jobs cannot get a private /tmp here, or null when they can: it needs util-linux's
 * unshare and setpriv, and run folders outside /tmp and /var/tmp (mounted over, those paths
 * would hide the job's own folder from it).
 */
export function privateTmpObstacle(jobsRoot: string): string | null {
  const real = realpathSync(jobsRoot);
  for (const tmp of ["/tmp", "/var/tmp"]) {
    const shared = realpathSync(tmp);
    if (real === shared || real.startsWith(`${shared}/`)) return `the jobs dir ${jobsRoot} is inside ${tmp}`;
  }
  try {
    execFileSync("unshare", ["--mount", "--propagation", "private", "true"], { stdio: "ignore", timeout: 10_000 });
    execFileSync("setpriv", ["--version"], { stdio: "ignore", timeout: 10_000 });
    return null;
  } catch {
    return "no mount namespaces: unshare or setpriv is missing or not permitted";
  }
}

/**
 * `command` run as `user` with `tmpDir` as its /tmp and /var/tmp (started as root). Pure.
 * Mount propagation is private, so the mounts never show outside the job.
 */
export function withPrivateTmp(command: string[], tmpDir: string, user: { uid: number; gid: number }): string[] {
  return [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "--",
    "sh",
    "-c",
    MOUNT_THEN_DROP,
    "sh",
    tmpDir,
    "setpriv",
    `--reuid=${user.uid}`,
    `--regid=${user.gid}`,
    "--clear-groups",
    "--",
    ...command,
  ];
}
