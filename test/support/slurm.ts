/**
 * The single-machine Slurm cluster of bench/slurm-up.sh for the Slurm backend's tests:
 * started once (idempotent), or why not. Without it the tests skip, unless
 * FEDML_REQUIRE_SLURM=1 (CI), where a cluster that cannot start fails them.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { repoRoot } from "./paths.js";

const run = promisify(execFile);

let started: Promise<string | null> | null = null;

/** Null when the cluster is up; else why it is not. */
export function slurmUp(): Promise<string | null> {
  started ??= run("bash", [`${repoRoot}bench/slurm-up.sh`], { timeout: 300_000 }).then(
    () => null,
    (error: { stderr?: string; message: string }) =>
      (error.stderr || error.message).trim().split("\n").pop() ?? "bench/slurm-up.sh failed",
  );
  return started;
}

/** The skip option of node:test for the Slurm tests: false when they can run. */
export async function slurmSkip(): Promise<string | false> {
  const why = await slurmUp();
  if (why === null) return false;
  if (process.env.FEDML_REQUIRE_SLURM === "1") throw new Error(`FEDML_REQUIRE_SLURM=1 but Slurm cannot start: ${why}`);
  return `Slurm cannot be started here (${why}); set FEDML_REQUIRE_SLURM=1 to make that an error`;
}

export async function sbatchWrap(args: string[], command: string): Promise<string> {
  const { stdout } = await run("sbatch", ["--parsable", "-o", "/dev/null", ...args, "--wrap", command]);
  return stdout.trim().split(";")[0];
}

export async function scancel(jobId: string): Promise<void> {
  await run("scancel", [jobId]).catch(() => {});
}

/** Slurm's state of a job (squeue, all states), or null once forgotten. */
export async function slurmJobState(jobId: string): Promise<string | null> {
  const { stdout } = await run("squeue", ["-h", "-t", "all", "-j", jobId, "-o", "%T"]).catch(() => ({ stdout: "" }));
  return stdout.trim() || null;
}
