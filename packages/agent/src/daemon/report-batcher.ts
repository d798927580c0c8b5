/**
 * The status reports of all this device's runs, sent together: one request in flight at a
 * time, and everything queued meanwhile goes in the next one. Reports leave in the order they
 * were queued, so a run's RUNNING is applied before its FINISHED even when both share a
 * request. A final report leaves at once; a progress report (INITIALIZING, RUNNING) waits up
 * to a short hold for company, so a short job's RUNNING and FINISHED share one request
 * instead of costing one each. Nothing is acknowledged to the job for a report still held,
 * so holding it loses nothing a crash could not lose anyway.
 */
import { type RunReportEntry, type RunReportOutcome, TERMINAL_EDGE_STATUSES } from "@fedml/core/contract";

export type SendReports = (entries: RunReportEntry[]) => Promise<RunReportOutcome[]>;

interface Queued {
  entry: RunReportEntry;
  resolve: (outcome: RunReportOutcome) => void;
  reject: (error: Error) => void;
}

/** The server takes up to this many reports per request. */
export const MAX_REPORTS_PER_REQUEST = 1000;

/** How long a progress report waits for company: about a trivial job's whole run. */
export const DEFAULT_REPORT_HOLD_MS = Number(process.env.FEDML_REPORT_HOLD_MS ?? 20);

export class ReportBatcher {
  private queue: Queued[] = [];
  private sending = false;
  private immediate = false;
  private held: NodeJS.Timeout | null = null;

  constructor(
    private readonly send: SendReports,
    private readonly holdMs = DEFAULT_REPORT_HOLD_MS,
  ) {}

  /** Resolves with the server's outcome for this report once its request is answered (after the commit). */
  report(entry: RunReportEntry): Promise<RunReportOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.schedule(TERMINAL_EDGE_STATUSES.has(entry.status.toUpperCase()) ? 0 : this.holdMs);
    });
  }

  /**
   * Sends within `delayMs` (0: in the next turn of the event loop, so reports queued in the
   * same turn, a reconcile or several exits, share the request). An earlier send wins.
   */
  private schedule(delayMs: number): void {
    if (this.sending || this.immediate) return;
    if (delayMs > 0) {
      this.held ??= setTimeout(() => {
        this.held = null;
        void this.pump();
      }, delayMs);
      return;
    }
    if (this.held) clearTimeout(this.held);
    this.held = null;
    this.immediate = true;
    setImmediate(() => {
      this.immediate = false;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    const batch = this.queue.splice(0, MAX_REPORTS_PER_REQUEST);
    try {
      const outcomes = await this.send(batch.map((q) => q.entry));
      batch.forEach((q, i) => {
        const outcome = outcomes[i];
        if (outcome) q.resolve(outcome);
        else q.reject(new Error(`the server answered ${outcomes.length} outcomes for ${batch.length} reports`));
      });
    } catch (error) {
      for (const q of batch) q.reject(error as Error);
    } finally {
      this.sending = false;
      // What queued meanwhile has waited a round trip already.
      if (this.queue.length > 0) this.schedule(0);
    }
  }
}
