/**
 * Slurm's own commands, run as the agent's user (an ordinary user on a login node): nothing
 * here needs root, a Slurm library or a native module.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import {
  type SlurmJob,
  type SlurmNode,
  SQUEUE_FORMAT,
  parseJobRecord,
  parseNodes,
  parseSbatchJobId,
  parseSqueue,
} from "./parse.js";

const COMMAND_TIMEOUT_MS = 60_000;

export class SlurmCommandError extends Error {}

export interface SlurmCliOptions {
  /** Folder of sbatch, squeue, scontrol, scancel; null: found on PATH. */
  binDir?: string | null;
}

export class SlurmCli {
  constructor(private readonly options: SlurmCliOptions = {}) {}

  private bin(name: string): string {
    return this.options.binDir ? join(this.options.binDir, name) : name;
  }

  run(name: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.bin(name),
        args,
        { timeout: COMMAND_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, env: env ?? process.env },
        (error, stdout, stderr) => {
          if (error) {
            const said = String(stderr).trim().split("\n").filter(Boolean).pop();
            reject(new SlurmCommandError(`${name} ${args[0] ?? ""}: ${said || error.message}`));
          } else resolve(String(stdout));
        },
      );
    });
  }

  /** The script's job id. `env` is all the job inherits (sbatch exports it). */
  async sbatch(script: string, env: NodeJS.ProcessEnv): Promise<string> {
    return parseSbatchJobId(await this.run("sbatch", ["--parsable", script], env));
  }

  async scancel(jobId: string): Promise<void> {
    await this.run("scancel", [jobId]);
  }

  /** Jobs with these ids that Slurm still knows (all states); unknown ids are left out. */
  async jobs(jobIds: string[]): Promise<SlurmJob[]> {
    if (jobIds.length === 0) return [];
    try {
      return parseSqueue(await this.run("squeue", ["-h", "-t", "all", "-j", jobIds.join(","), "-O", SQUEUE_FORMAT]));
    } catch (error) {
      // One id Slurm has forgotten makes squeue fail the whole query.
      if (/Invalid job id/i.test((error as Error).message)) return [];
      throw error;
    }
  }

  /** The running and waiting jobs of a partition (every user's): what holds its GPUs. */
  async partitionJobs(partition: string | null): Promise<SlurmJob[]> {
    const args = ["-h", "-t", "RUNNING,COMPLETING,SUSPENDED", "-O", SQUEUE_FORMAT];
    if (partition) args.push("-p", partition);
    return parseSqueue(await this.run("squeue", args));
  }

  /** A job squeue no longer lists, from scontrol (kept MinJobAge after its end); null if forgotten. */
  async job(jobId: string): Promise<SlurmJob | null> {
    try {
      return parseJobRecord(await this.run("scontrol", ["show", "job", "-o", jobId]));
    } catch (error) {
      if (/Invalid job id/i.test((error as Error).message)) return null;
      throw error;
    }
  }

  async nodes(): Promise<SlurmNode[]> {
    return parseNodes(await this.run("scontrol", ["show", "node", "-o"]));
  }

  async version(): Promise<string> {
    return (await this.run("sinfo", ["--version"])).trim();
  }
}
