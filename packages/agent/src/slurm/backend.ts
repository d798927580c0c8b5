/** The Slurm backend: run parts become batch jobs of one partition, followed from the login node. */
import type { Assignment, DeviceFacts } from "@fedml/core/contract";
import type { FactsConfig } from "../facts/index.js";
import { advertisedAddress, systemFacts } from "../facts/system.js";
import type { ReattachDeps, RunBackend, RunHandle } from "../runner/backend.js";
import type { JobRunDeps } from "../runner/job-run.js";
import { type RunState, isFinalStatus, listRunStates } from "../runner/run-state.js";
import { AGENT_VERSION } from "../version.js";
import { SlurmCli } from "./cli.js";
import { type ClusterShape, clusterShape } from "./cluster.js";
import { QueueWatch } from "./queue-watch.js";
import { type SlurmSettings, slurmPollMs } from "./settings.js";
import { SlurmRun, type SlurmRunContext } from "./slurm-run.js";

export class SlurmBackend implements RunBackend {
  readonly kind = "slurm" as const;
  readonly cli: SlurmCli;
  private readonly watch: QueueWatch;
  private readonly ctx: SlurmRunContext;
  private shape: ClusterShape | null = null;

  constructor(
    private readonly home: string,
    private readonly settings: SlurmSettings,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.cli = new SlurmCli({ binDir: settings.binDir });
    const pollMs = slurmPollMs(env);
    this.watch = new QueueWatch(this.cli, pollMs);
    this.ctx = {
      home,
      cli: this.cli,
      watch: this.watch,
      settings,
      gpusPerNode: () => this.shape?.gpusPerNode ?? 0,
      tailMs: Math.min(pollMs, 200),
    };
  }

  start(assignment: Assignment, deps: JobRunDeps): RunHandle {
    return SlurmRun.start(assignment, this.ctx, deps);
  }

  canReattach(state: RunState): boolean {
    return Boolean(state.slurm?.jobId) && !isFinalStatus(state.status);
  }

  reattach(state: RunState, deps: ReattachDeps): RunHandle {
    return SlurmRun.reattach(state, this.ctx, deps);
  }

  firstLogSeq(state: RunState): number {
    return (state.slurm?.logSeq ?? 0) + 1;
  }

  /** The partition now, as sinfo/scontrol and squeue say. */
  async refresh(): Promise<ClusterShape> {
    const ours = new Set(
      listRunStates(this.home)
        .filter((s) => !isFinalStatus(s.status) && s.slurm?.jobId)
        .map((s) => s.slurm?.jobId as string),
    );
    const [nodes, jobs] = await Promise.all([this.cli.nodes(), this.cli.partitionJobs(this.settings.partition)]);
    this.shape = clusterShape(nodes, this.settings.partition, jobs, ours);
    return this.shape;
  }

  /** The device the partition is: its GPUs by model, CPUs and memory, price and provider as bound. */
  async facts(config: FactsConfig): Promise<DeviceFacts> {
    const shape = await this.refresh();
    const system = systemFacts();
    const partition = this.settings.partition ?? "default partition";
    return {
      name: config.name || `${system.hostname}-slurm${this.settings.partition ? `-${this.settings.partition}` : ""}`,
      hostname: system.hostname,
      osType: "Slurm",
      osVersion: `${(await this.cli.version()).replace(/^slurm(-wlm)?\s*/, "slurm ")}, ${partition}, ${shape.nodes.length} node(s)`,
      cpuCount: shape.cpuCount,
      memoryBytes: shape.memoryBytes,
      gpus: shape.gpus,
      gpuError: shape.gpus.length === 0 && shape.gpusPerNode === 0 ? `no node of ${partition} declares gres gpu` : null,
      agentVersion: AGENT_VERSION,
      address: advertisedAddress(config.address),
      provider: config.provider,
      region: config.region,
      pricePerGpuHour: config.pricePerGpuHour,
      shared: config.shared,
      simulated: false,
      // Slurm queues what does not fit: the server may hand over as many parts as it likes.
      maxJobs: config.maxJobs && config.maxJobs > 0 ? config.maxJobs : Math.max(1, shape.cpuCount),
      containerRuntime: null,
      clusterNodes: shape.nodes.map((n) => ({
        name: n.name,
        state: n.state,
        gpus: n.gpus.reduce((sum, g) => sum + g.count, 0),
        gpuModel: [...new Set(n.gpus.map((g) => (g.type ? g.type.toUpperCase() : "GPU")))].join("/") || null,
        cpus: n.cpus,
        reason: n.reason,
      })),
    };
  }

  get lastShape(): ClusterShape | null {
    return this.shape;
  }

  close(): void {
    this.watch.close();
  }
}
