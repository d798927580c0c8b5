/**
 * The status reports of all this device's runs, sent together: one request in flight at a
 * time, and everything queued meanwhile goes in the next one. Reports leave in the order they
 * were queued, so a run's RUNNING is applied before its FINISHED even when both share a
 * request. An idle agent sends a report at once (no timer adds latency): batches form only
 * while a request is on its way, i.e. exactly when reports come faster than round trips.
 */
import type { RunReportEntry, RunReportOutcome } from "@fedml/core/contract";

export type SendReports = (entries: RunReportEntry[]) => Promise<RunReportOutcome[]>;

interface Queued {
  entry: RunReportEntry;
  resolve: (outcome: RunReportOutcome) => void;
  reject: (error: Error) => void;
}

/** The server takes up to this many reports per request. */
export const MAX_REPORTS_PER_REQUEST = 1000;

export class ReportBatcher {
  private queue: Queued[] = [];
  private sending = false;
  private scheduled = false;

  constructor(private readonly send: SendReports) {}

  /** Resolves with the server's outcome for this report once its request is answered (after the commit). */
  report(entry: RunReportEntry): Promise<RunReportOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.schedule();
    });
  }

  /** Reports queued in the same turn of the event loop (a reconcile, several exits) share the request. */
  private schedule(): void {
    if (this.sending || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
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
      if (this.queue.length > 0) this.schedule();
    }
  }
}
