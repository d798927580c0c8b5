/**
 * The files of one run part on the shared folder: `env.sh` (our job environment), `node.sh`
 * (what each node of the allocation runs: bootstrap, then the job) and `batch.sh` (what
 * sbatch runs on the allocation's first node: one `srun` task per node). Pure.
 */
import type { Allocation } from "./sizing.js";

export interface BatchSpec {
  runId: string;
  /** The run's folder on the shared file system. */
  dir: string;
  /** The job's working folder (the unpacked workspace). */
  cwd: string;
  allocation: Allocation;
  timeLimitMinutes: number | null;
  partition: string | null;
  account: string | null;
  qos: string | null;
  /** More sbatch options, one per item (`--constraint=a100`). */
  extraArgs: string[];
  hasBootstrap: boolean;
  /** This part is the whole run: Slurm's allocation decides ranks and MASTER_ADDR. */
  ownsWorld: boolean;
}

export const OUT_FILE = "slurm.out";
export const ERR_FILE = "slurm.err";

/** A single-quoted shell word. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Variables Slurm itself sets per task (from the allocation), never from us. */
const FROM_SLURM = new Set(["CUDA_VISIBLE_DEVICES"]);

export function envScript(vars: Record<string, string>): string {
  const lines = Object.entries(vars)
    .filter(([name]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !FROM_SLURM.has(name))
    .map(([name, value]) => `export ${name}=${shellQuote(value)}`);
  return `${lines.join("\n")}\n`;
}

/** The allocation's view of this node's ranks (SLURM_NODEID is 0 in the batch step). */
function nodeVars(spec: BatchSpec): string[] {
  if (!spec.ownsWorld) return [];
  const perNode = Math.max(1, spec.allocation.gpusPerNode);
  return [
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's parameter expansion, not a JavaScript template
    'export NODE_RANK="${SLURM_NODEID:-0}"',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's parameter expansion, not a JavaScript template
    'export FEDML_CLIENT_RANK="$(( ${FEDML_CLIENT_RANK:-0} + ${SLURM_NODEID:-0} ))"',
    `export NPROC_PER_NODE=${perNode}`,
    `export WORLD_SIZE="$(( \${SLURM_JOB_NUM_NODES:-1} * ${perNode} ))"`,
  ];
}

/** Bootstrap, then the job. */
function steps(spec: BatchSpec): string[] {
  const q = (name: string) => shellQuote(`${spec.dir}/${name}`);
  return [...(spec.hasBootstrap ? [`bash ${q("bootstrap.sh")} || exit $?`] : []), `exec bash ${q("job.sh")}`];
}

/** What each node runs under srun when the allocation has several. */
export function nodeScript(spec: BatchSpec): string {
  return ["#!/bin/bash", ...nodeVars(spec), ...steps(spec), ""].join("\n");
}

export function batchScript(spec: BatchSpec): string {
  const { allocation } = spec;
  const directives = [
    `--job-name=fedml-run-${spec.runId}`,
    `--output=${spec.dir}/${OUT_FILE}`,
    `--error=${spec.dir}/${ERR_FILE}`,
    `--chdir=${spec.cwd}`,
    `--nodes=${allocation.nodes}`,
    "--ntasks-per-node=1",
    ...(allocation.gpusPerNode > 0 ? [`--gres=gpu:${allocation.gpusPerNode}`] : []),
    ...(spec.timeLimitMinutes ? [`--time=${Math.max(1, Math.ceil(spec.timeLimitMinutes))}`] : []),
    ...(spec.partition ? [`--partition=${spec.partition}`] : []),
    ...(spec.account ? [`--account=${spec.account}`] : []),
    ...(spec.qos ? [`--qos=${spec.qos}`] : []),
    ...spec.extraArgs,
  ];
  const several = allocation.nodes > 1;
  const world = spec.ownsWorld
    ? [
        // The allocation's first node is rank 0: torchrun and FedML's peers meet there. With
        // one node that is this one (no scontrol round trip on the way to the job's start).
        several
          ? 'MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" 2>/dev/null | head -n 1)"'
          : 'MASTER_ADDR="$HOSTNAME"',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's parameter expansion, not a JavaScript template
        'export MASTER_ADDR="${MASTER_ADDR:-$SLURMD_NODENAME}"',
        'export FEDML_NODE_0_ADDR="$MASTER_ADDR"',
        'export NNODES="$SLURM_JOB_NUM_NODES" FEDML_NUM_NODES="$SLURM_JOB_NUM_NODES"',
      ]
    : [];
  // One node: the batch step runs bootstrap and job itself (a job step more would only add
  // latency). Several: one srun task per node, each line saying which node wrote it ("1: ...").
  const run = several
    ? [
        `exec srun --label --quiet --kill-on-bad-exit=1 --nodes=${allocation.nodes} --ntasks-per-node=1 bash ${shellQuote(`${spec.dir}/node.sh`)}`,
      ]
    : [...nodeVars(spec), ...steps(spec)];
  return [
    "#!/bin/bash",
    ...directives.map((d) => `#SBATCH ${d}`),
    "set -a",
    `. ${shellQuote(`${spec.dir}/env.sh`)}`,
    "set +a",
    ...world,
    ...run,
    "",
  ].join("\n");
}
