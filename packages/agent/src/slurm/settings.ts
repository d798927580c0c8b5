import { isAbsolute, join, resolve } from "node:path";
import { FedmlError, ResultCode } from "@fedml/core/contract";

/** How an agent bound with `--slurm` submits its run parts. */
export interface SlurmSettings {
  /** null: Slurm's default partition. The device offers this partition's nodes. */
  partition: string | null;
  account: string | null;
  qos: string | null;
  /**
   * A folder every node of the partition sees at the same path (a shared file system): run
   * folders, workspaces, batch scripts and output files go there.
   */
  sharedDir: string;
  /** More sbatch options, one per item (`--constraint=a100`). */
  extraArgs: string[];
  /** Folder of Slurm's commands; null: on PATH. */
  binDir: string | null;
}

/** How often the agent asks squeue about its jobs (FEDML_SLURM_POLL_MS overrides it). */
export const DEFAULT_SLURM_POLL_MS = 500;

export function slurmPollMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.FEDML_SLURM_POLL_MS);
  return Number.isFinite(n) && n >= 20 ? n : DEFAULT_SLURM_POLL_MS;
}

export interface SlurmFlags {
  partition?: string;
  account?: string;
  qos?: string;
  sharedDir?: string;
  extraArgs?: string[];
  binDir?: string;
}

/** The settings of `bind --slurm`, checked: a bad one fails the bind with a line naming it. */
export function slurmSettingsOf(home: string, flags: SlurmFlags): SlurmSettings {
  const word = (name: string, value: string | undefined) => {
    if (value === undefined || value === "") return null;
    if (!/^[A-Za-z0-9_.:+-]+$/.test(value)) {
      throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `--${name} "${value}" is not a Slurm name`);
    }
    return value;
  };
  for (const arg of flags.extraArgs ?? []) {
    if (!/^--?[A-Za-z]/.test(arg) || /[\n\r]/.test(arg)) {
      throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `--sbatch-arg "${arg}" is not an sbatch option`);
    }
  }
  const dir = flags.sharedDir ? resolve(flags.sharedDir) : join(home, "slurm-runs");
  if (!isAbsolute(dir)) throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `--slurm-dir must be absolute`);
  return {
    partition: word("partition", flags.partition),
    account: word("account", flags.account),
    qos: word("qos", flags.qos),
    sharedDir: dir,
    extraArgs: flags.extraArgs ?? [],
    binDir: flags.binDir ?? null,
  };
}
