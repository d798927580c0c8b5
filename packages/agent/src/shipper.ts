/**
 * Ships one run's log lines: numbered 1..N, in batches of up to maxBatch, one request in flight,
 * in order. Lines are dropped only once the server's ackedSeq covers them, so a lost
 * connection loses nothing (the client retries; the lines wait meanwhile). What waits in
 * memory is bounded: past maxHeldLines or maxHeldChars the newer lines go to a spill file
 * (when the run has one) and are read back, in order, as the server takes the older ones.
 */
import { appendFileSync, closeSync, mkdirSync, openSync, readSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { FedmlError, type LogLine } from "@fedml/core/contract";
import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay } from "./backoff.js";
import { AgentStoppedError } from "./client.js";
import { type Logger, silentLogger } from "./log.js";

export type SendLogs = (runId: string, lines: LogLine[]) => Promise<{ ackedSeq: number; conflict: boolean }>;

export interface ShipperOptions {
  runId: string;
  send: SendLogs;
  flushIntervalMs?: number;
  maxBatch?: number;
  /** Characters of text per batch at most (the server's body limit is 64 MiB). */
  maxBatchChars?: number;
  backoff?: BackoffOptions;
  log?: Logger;
  /** The lines that do not fit in memory, one record a line; absent: all are held in memory. */
  spillFile?: string;
  maxHeldLines?: number;
  maxHeldChars?: number;
  /** The first line's seq (a re-attached run goes on after the lines the server has). */
  firstSeq?: number;
}

const SPILL_WRITE_LINES = 500;
/** Lines that gathered during a request and go out at once after it, without the flush wait. */
const FULL_ENOUGH = 1000;
const SPILL_READ_BYTES = 1024 * 1024;

/** Stands in for lines the server asks for again after the agent has already dropped them. */
export const LOST_LINE_TEXT = "[fedml agent: this log line was lost]";

export class LogShipper {
  private readonly runId: string;
  private readonly send: SendLogs;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxBatchChars: number;
  private readonly backoff: BackoffOptions;
  private readonly log: Logger;
  /** Lines not yet acked, in seq order (the in-flight batch is their head). */
  private pending: LogLine[] = [];
  private nextSeq = 1;
  private acked = 0;
  private inFlight = false;
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private failures = 0;
  /** Set when the server refused the run's logs or the agent is stopping: nothing more is sent. */
  private givenUp = false;
  private waiters: (() => void)[] = [];
  private readonly spillFile: string | null;
  private readonly maxHeldLines: number;
  private readonly maxHeldChars: number;
  private heldChars = 0;
  /** Lines in the spill file (written or buffered) not yet read back. */
  private spilled = 0;
  private spillBuffer: string[] = [];
  private spillReadOffset = 0;

  constructor(options: ShipperOptions) {
    this.runId = options.runId;
    this.send = options.send;
    // No wait by default: the lines of one read of the job's output go together (the send
    // waits for the turn of the event loop that pushed them), and while a request is out
    // lines gather anyway, so a fast job still ships in big batches without a timer's delay.
    this.flushIntervalMs = options.flushIntervalMs ?? 0;
    this.maxBatch = options.maxBatch ?? 5_000;
    this.maxBatchChars = options.maxBatchChars ?? 16 * 1024 * 1024;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.log = options.log ?? silentLogger;
    this.spillFile = options.spillFile ?? null;
    this.maxHeldLines = options.maxHeldLines ?? 20_000;
    this.maxHeldChars = options.maxHeldChars ?? 8 * 1024 * 1024;
    this.nextSeq = Math.max(1, options.firstSeq ?? 1);
    this.acked = this.nextSeq - 1;
  }

  /** Lines held in memory right now (the spill file holds the rest). */
  get heldInMemory(): number {
    return this.pending.length;
  }

  get spilledLines(): number {
    return this.spilled;
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get ackedSeq(): number {
    return this.acked;
  }

  push(stream: LogLine["stream"], text: string): void {
    const line: LogLine = { seq: this.nextSeq++, text, stream, time: Date.now() };
    if (this.givenUp) return;
    if (this.spillFile && (this.spilled > 0 || this.pending.length >= this.maxHeldLines || this.heldChars >= this.maxHeldChars)) {
      if (this.spilled === 0)
        this.log(`run ${this.runId}: the server is not taking logs fast enough: spilling them to ${this.spillFile}`);
      this.spill(line);
    } else {
      this.hold(line);
    }
    if (this.inFlight) return;
    if (this.pending.length >= this.maxBatch) this.sendNow();
    else this.schedule(this.flushIntervalMs);
  }

  /** Resolves once every line pushed so far is acked (or the shipper has given up on them). */
  drained(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    const promise = new Promise<void>((resolve) => this.waiters.push(resolve));
    // Nothing more is coming for an ended run: no point waiting for the flush timer.
    if (!this.inFlight && this.failures === 0) this.sendNow();
    return promise;
  }

  private isIdle(): boolean {
    return ((this.pending.length === 0 && this.spilled === 0) || this.givenUp) && !this.inFlight;
  }

  private hold(line: LogLine): void {
    this.pending.push(line);
    this.heldChars += line.text.length;
  }

  private spill(line: LogLine): void {
    // "seq time stream text": no JSON per line; a line holding "\n" (none from a job's output) as JSON.
    this.spillBuffer.push(
      line.text.includes("\n")
        ? JSON.stringify(line)
        : `${line.seq} ${line.time} ${line.stream === "stderr" ? 1 : 0} ${line.text}`,
    );
    this.spilled++;
    if (this.spillBuffer.length >= SPILL_WRITE_LINES) this.flushSpill();
  }

  private flushSpill(): void {
    if (!this.spillFile || this.spillBuffer.length === 0) return;
    // The run's folder may be gone already (the job has ended and left nothing in it).
    mkdirSync(dirname(this.spillFile), { recursive: true });
    appendFileSync(this.spillFile, `${this.spillBuffer.join("\n")}\n`, { mode: 0o600 });
    this.spillBuffer = [];
  }

  /** Reads spilled lines back into memory while there is room, oldest first. */
  private refill(): void {
    if (!this.spillFile || this.spilled === 0) return;
    this.flushSpill();
    const fd = openSync(this.spillFile, "r");
    try {
      const chunk = Buffer.alloc(SPILL_READ_BYTES);
      while (this.spilled > 0 && this.pending.length < this.maxHeldLines && this.heldChars < this.maxHeldChars) {
        const read = readSync(fd, chunk, 0, chunk.length, this.spillReadOffset);
        if (read === 0) break;
        const text = chunk.subarray(0, read);
        let start = 0;
        for (let end = text.indexOf(10, start); end !== -1; end = text.indexOf(10, start)) {
          this.hold(spilledLine(text.subarray(start, end).toString("utf8")));
          this.spilled--;
          start = end + 1;
          if (this.pending.length >= this.maxHeldLines || this.heldChars >= this.maxHeldChars) break;
        }
        // A line longer than the chunk cannot happen: lines are cut at 64K characters.
        this.spillReadOffset += start;
      }
    } finally {
      closeSync(fd);
    }
    if (this.spilled === 0) this.removeSpill();
  }

  private removeSpill(): void {
    this.spillBuffer = [];
    this.spillReadOffset = 0;
    this.spilled = 0;
    if (this.spillFile) rmSync(this.spillFile, { force: true });
  }

  private schedule(delayMs: number): void {
    if (this.timer) return;
    const fire = () => {
      this.timer = null;
      this.pump();
    };
    this.timer = delayMs > 0 ? setTimeout(fire, delayMs) : setImmediate(fire);
  }

  private cancelTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
    this.timer = null;
  }

  private sendNow(): void {
    this.cancelTimer();
    this.pump();
  }

  private pump(): void {
    if (this.pending.length < this.maxBatch) this.refill();
    if (this.inFlight || this.givenUp || this.pending.length === 0) {
      this.notifyIfIdle();
      return;
    }
    let count = 0;
    let chars = 0;
    const most = Math.min(this.maxBatch, this.pending.length);
    // At least one line, however long (lines are cut at 64K characters).
    while (count < most && (count === 0 || chars + this.pending[count].text.length <= this.maxBatchChars)) {
      chars += this.pending[count].text.length;
      count++;
    }
    const batch = this.pending.slice(0, count);
    this.inFlight = true;
    this.send(this.runId, batch).then(
      (answer) => {
        this.inFlight = false;
        this.failures = 0;
        this.applyAck(answer.ackedSeq, answer.conflict);
        this.afterRequest();
      },
      (error: Error) => {
        this.inFlight = false;
        if (error instanceof AgentStoppedError) {
          this.giveUp(null);
        } else if (error instanceof FedmlError && error.httpStatus !== undefined && error.httpStatus < 500) {
          this.giveUp(`the server refused the logs of run ${this.runId}: ${error.message}`);
        } else {
          this.failures++;
          this.log(`run ${this.runId}: sending logs failed, retrying: ${error.message}`);
          this.schedule(backoffDelay(this.failures - 1, this.backoff));
        }
      },
    );
  }

  private afterRequest(): void {
    // What gathered while the request was out is a batch already: a fast job is not held back.
    if (this.pending.length >= Math.min(this.maxBatch, FULL_ENOUGH) || this.spilled > 0) this.pump();
    else if (this.pending.length > 0) {
      // An ended run's last lines go at once; a live run's wait to fill a batch.
      if (this.waiters.length > 0) this.pump();
      else this.schedule(this.flushIntervalMs);
    } else this.notifyIfIdle();
  }

  private applyAck(ackedSeq: number, conflict: boolean): void {
    const firstHeld = this.pending[0]?.seq ?? this.nextSeq;
    if (conflict && ackedSeq < firstHeld - 1) {
      // The server lost lines we no longer hold: keep seqs contiguous with placeholders.
      const fillers: LogLine[] = [];
      for (let seq = ackedSeq + 1; seq < firstHeld; seq++) {
        fillers.push({ seq, text: LOST_LINE_TEXT, stream: "stderr", time: Date.now() });
      }
      this.log(`run ${this.runId}: the server asked again for ${fillers.length} lines already dropped`);
      this.pending = [...fillers, ...this.pending];
      this.heldChars += fillers.length * LOST_LINE_TEXT.length;
      this.acked = ackedSeq;
      return;
    }
    this.acked = ackedSeq;
    let drop = 0;
    while (drop < this.pending.length && this.pending[drop].seq <= ackedSeq) {
      this.heldChars -= this.pending[drop].text.length;
      drop++;
    }
    if (drop > 0) this.pending = this.pending.slice(drop);
  }

  private giveUp(reason: string | null): void {
    if (reason) this.log(reason);
    this.givenUp = true;
    this.pending = [];
    this.heldChars = 0;
    this.removeSpill();
    this.notifyIfIdle();
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Stops the flush timer (after drained(), or when abandoning the run). */
  close(): void {
    this.cancelTimer();
  }
}

function spilledLine(record: string): LogLine {
  if (record.startsWith("{")) return JSON.parse(record) as LogLine;
  const a = record.indexOf(" ");
  const b = record.indexOf(" ", a + 1);
  return {
    seq: Number(record.slice(0, a)),
    time: Number(record.slice(a + 1, b)),
    stream: record[b + 1] === "1" ? "stderr" : "stdout",
    text: record.slice(b + 3),
  };
}
