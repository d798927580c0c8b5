import { isTerminalRunStatus } from "@fedml/core/statuses";
import { logLines, logSummary } from "../../../api/runs.js";
import type { LogNode } from "./log-nodes.js";

/** Lines fetched per request: one page of one node. */
export const PAGE_LINES = 500;
/** Pages kept; the least recently used go first. 200 x 500 lines is well under what a tab holds easily. */
const MAX_PAGES = 200;
/** Nodes followed by long-polls at once. */
const MAX_LONG_POLLS = 2;
/** At most this often the counts are read again while lines keep coming. */
const MIN_REFRESH_MS = 250;

interface Page {
  lines: string[];
}

/**
 * A run's log as the page sees it: each node's line count, and pages of lines fetched when
 * first asked for and kept in a bounded cache, so a view over a million lines holds only
 * what was scrolled past. While the run lives it follows: a long-poll per node wakes it when a
 * line arrives, then the counts are read again. Framework-free; the view subscribes.
 */
export class LogSource {
  nodes: LogNode[] = [];
  runStatus: string | null = null;
  private readonly pages = new Map<string, Page>();
  private readonly inFlight = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private readonly abort = new AbortController();
  private changeQueued = false;

  constructor(private readonly runId: string) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts reading counts (and following while the run lives); stop() ends it. */
  start(): void {
    void this.followLoop();
  }

  stop(): void {
    this.abort.abort();
  }

  /** The text of a node's line, or undefined while its page is on its way (which this asks for). */
  line(node: LogNode, seq: number): string | undefined {
    const pageNo = Math.floor((seq - 1) / PAGE_LINES);
    const key = `${node.deviceId}:${pageNo}`;
    const page = this.pages.get(key);
    const have = page?.lines.length ?? 0;
    const wanted = Math.min(PAGE_LINES, node.count - pageNo * PAGE_LINES);
    if (page) {
      // Touch: Map order is the eviction order.
      this.pages.delete(key);
      this.pages.set(key, page);
    }
    if (have < wanted) this.fetchPage(node.deviceId, pageNo, key);
    return page?.lines[(seq - 1) % PAGE_LINES];
  }

  private fetchPage(deviceId: string, pageNo: number, key: string): void {
    if (this.inFlight.has(key) || this.abort.signal.aborted) return;
    this.inFlight.add(key);
    logLines(this.runId, { deviceId, afterSeq: pageNo * PAGE_LINES, limit: PAGE_LINES }, this.abort.signal)
      .then((answer) => {
        this.pages.set(key, { lines: answer.lines.map((l) => l.text) });
        while (this.pages.size > MAX_PAGES) {
          const oldest = this.pages.keys().next().value;
          if (oldest === undefined) break;
          this.pages.delete(oldest);
        }
        this.changed();
      })
      .catch(() => undefined)
      .finally(() => this.inFlight.delete(key));
  }

  private changed(): void {
    // Many pages arriving in one turn make one render.
    if (this.changeQueued) return;
    this.changeQueued = true;
    queueMicrotask(() => {
      this.changeQueued = false;
      for (const l of this.listeners) l();
    });
  }

  private async refreshCounts(): Promise<void> {
    const summary = await logSummary(this.runId, this.abort.signal);
    this.runStatus = summary.runStatus;
    this.nodes = (summary.runLogs?.logDevices ?? []).map((d, i) => ({
      deviceId: d.id,
      name: d.name,
      rank: d.rank ?? i,
      count: d.lineCount ?? 0,
    }));
    this.changed();
  }

  private async followLoop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const started = Date.now();
      try {
        await this.refreshCounts();
        if (this.runStatus !== null && isTerminalRunStatus(this.runStatus)) return;
        await this.waitForLines();
      } catch {
        if (signal.aborted) return;
        await sleep(1000, signal);
      }
      await sleep(MIN_REFRESH_MS - (Date.now() - started), signal);
    }
  }

  /** Resolves when any node has a line past its count, the run ends, or 20 s pass. */
  private async waitForLines(): Promise<void> {
    if (this.nodes.length === 0) {
      await sleep(1000, this.abort.signal);
      return;
    }
    const round = new AbortController();
    const onAbort = () => round.abort();
    this.abort.signal.addEventListener("abort", onAbort);
    try {
      // A browser opens ~6 connections per server: long-polls on a few nodes only, and short
      // waits when there are more, so that the others' lines still show within a few seconds.
      const watched = this.nodes.slice(0, MAX_LONG_POLLS);
      const waitMs = this.nodes.length > MAX_LONG_POLLS ? 2000 : 20_000;
      await Promise.race(
        watched.map((n) => logLines(this.runId, { deviceId: n.deviceId, afterSeq: n.count, limit: 1, waitMs }, round.signal)),
      );
    } finally {
      round.abort();
      this.abort.signal.removeEventListener("abort", onAbort);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
