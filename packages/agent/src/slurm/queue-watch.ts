/**
 * One `squeue` for all of this agent's Slurm jobs per tick, however many runs follow them;
 * a job squeue no longer lists is looked up once with `scontrol show job`.
 */
import type { SlurmCli } from "./cli.js";
import type { SlurmJob } from "./parse.js";

export type JobListener = (job: SlurmJob | null, error: Error | null) => void;

export class QueueWatch {
  private readonly listeners = new Map<string, JobListener>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    private readonly cli: SlurmCli,
    private readonly intervalMs: number,
  ) {}

  /** `listener(job)` on every tick with the job's row; `listener(null)` once Slurm has forgotten it. */
  follow(jobId: string, listener: JobListener): () => void {
    this.listeners.set(jobId, listener);
    this.schedule(0);
    return () => {
      this.listeners.delete(jobId);
    };
  }

  /** Polls at once (a stop was sent, a job was submitted). */
  poke(): void {
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.polling) return;
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll();
    }, delayMs);
  }

  private async poll(): Promise<void> {
    const ids = [...this.listeners.keys()];
    if (ids.length === 0) return;
    this.polling = true;
    try {
      const rows = new Map((await this.cli.jobs(ids)).map((j) => [j.jobId, j]));
      for (const id of ids) {
        let row: SlurmJob | null = rows.get(id) ?? null;
        if (!row) row = await this.cli.job(id);
        this.listeners.get(id)?.(row, null);
      }
    } catch (error) {
      for (const id of ids) this.listeners.get(id)?.(null, error as Error);
    } finally {
      this.polling = false;
      if (this.listeners.size > 0) this.schedule(this.intervalMs);
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.listeners.clear();
  }
}
