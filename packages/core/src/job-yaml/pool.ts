import { Worker } from "node:worker_threads";
import { basename } from "node:path";
import { FedmlError, ResultCode } from "../codes.js";
import type { JobSpec } from "../jobspec.js";
import { DEFAULT_JOB_YAML_LIMITS, type JobYamlLimits } from "./limits.js";

export interface ParseRequest {
  id: number;
  text: string;
  path?: string;
  limits: JobYamlLimits;
}
export type ParseReply =
  | { id: number; spec: JobSpec }
  | { id: number; error: { resultCode: number; message: string } }
  | { id: number; crash: string };

/** Running totals of a pool. */
export interface ParsePoolCounts {
  /** Documents handed to a worker thread. */
  readByWorkers: number;
  /** Parses answered by another caller's read of the same document, under way at the time. */
  shared: number;
  /** Parses answered from the specs kept of documents read before. */
  fromCache: number;
  workersStarted: number;
}

export interface ParsePoolOptions {
  /** Worker threads parsing at once. */
  size?: number;
  /** Milliseconds from the request to its answer; past it the worker is terminated. */
  deadlineMs?: number;
  /** Requests waiting for a worker; past it new ones are refused at once. */
  maxWaiting?: number;
  /** Heap of one worker: a runaway document fails the worker, not the server. */
  maxHeapMb?: number;
  limits?: JobYamlLimits;
  /** Specs kept of documents read before (see `parsed`); 0 reads every document anew. */
  cacheEntries?: number;
}

interface Job {
  request: ParseRequest;
  file: string;
  /** cacheKey of the document: identical parses asked for meanwhile wait on this one. */
  key: string;
  resolve: (spec: JobSpec) => void;
  reject: (err: Error) => void;
  /** Callers of the same document who asked while it was being read: each gets a copy of its own. */
  sharers: Array<{ resolve: (spec: JobSpec) => void; reject: (err: Error) => void }>;
  timer: NodeJS.Timeout;
  slot?: Slot;
  /** When it was asked for (performance.now()). */
  askedAt: number;
}

interface Slot {
  worker: Worker;
  /** Set once the worker has loaded the parser: a job's deadline starts when it is handed over. */
  ready: boolean;
  job?: Job;
}

/**
 * How long a parse waits for the busy workers before another one is started. Starting a worker
 * costs a module load (hundreds of ms of CPU), while a parse takes well under a millisecond:
 * concurrent launches mostly just queue behind one another for a moment, and only a real
 * backlog (or a slow document) is worth another worker.
 */
const SPAWN_AFTER_MS = 100;

/** The longest a parse waits for a parser thread that is still starting. */
const MAX_START_WAIT_MS = 60_000;

/**
 * Only documents this short are kept: a sweep's YAML is a few hundred characters, and the
 * cache must stay small next to the server's heap (64 entries of at most this many).
 */
const CACHE_MAX_CHARS = 16_384;

// Built, the worker is the .js beside this file. Run from source (tests under tsx) it is the
// .ts one, imported from a one-line script that first registers tsx in the worker (Node 20
// does not carry a parent's loader hooks into worker threads).
const fromSource = import.meta.url.endsWith(".ts");
const workerUrl = new URL(`./worker${fromSource ? ".ts" : ".js"}`, import.meta.url);

/**
 * Parses untrusted job YAML off the event loop: a few worker threads, each request with a
 * deadline after which its worker is terminated (and replaced on demand) and the caller gets
 * a FedmlError with code 17.
 */
export class ParsePool {
  private readonly size: number;
  private readonly deadlineMs: number;
  private readonly maxWaiting: number;
  private readonly maxHeapMb: number;
  private readonly limits: JobYamlLimits;
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private nextId = 1;
  /** A dispatch due when the oldest waiting parse will have waited SPAWN_AFTER_MS. */
  private backlogCheck: NodeJS.Timeout | undefined;
  private closed = false;
  /**
   * The spec of each document read well lately, by path and text (least recently used goes
   * first). A sweep launches the same text hundreds of times, and the parse is a pure
   * function of text, path and limits: a repeat is answered without a worker's round trip
   * (which costs the server more than the parse). Failures are not kept: a timeout or crash
   * may be the machine's, not the document's.
   */
  private readonly parsed = new Map<string, JobSpec>();
  private readonly cacheEntries: number;
  /**
   * The parse of each document being read now. A sweep's launches arrive together, before
   * the first of them is in the cache: they wait on that one read instead of queueing a read
   * each (a queue that would also start another worker).
   */
  private readonly reading = new Map<string, Job>();
  private readonly counts: ParsePoolCounts = { readByWorkers: 0, shared: 0, fromCache: 0, workersStarted: 0 };

  constructor(options: ParsePoolOptions = {}) {
    this.size = Math.max(1, options.size ?? 2);
    this.deadlineMs = options.deadlineMs ?? 2_000;
    this.maxWaiting = options.maxWaiting ?? 100;
    this.maxHeapMb = options.maxHeapMb ?? 256;
    this.limits = options.limits ?? DEFAULT_JOB_YAML_LIMITS;
    this.cacheEntries = Math.max(0, options.cacheEntries ?? 64);
  }

  parse(text: string, opts: { path?: string } = {}): Promise<JobSpec> {
    const file = opts.path ? basename(opts.path) : "job.yaml";
    if (this.closed) return Promise.reject(new FedmlError(ResultCode.ERROR, "the server is shutting down", 503));
    // Oversized text is refused here, before it is copied to a worker.
    if (text.length > this.limits.maxChars) {
      return Promise.reject(
        new FedmlError(
          ResultCode.LAUNCH_JOB_STATUS_INVALID,
          `${file}: the job YAML is ${text.length} characters; at most ${this.limits.maxChars} are accepted`,
          400,
        ),
      );
    }
    const key = cacheKey(text, opts.path);
    const known = this.parsed.get(key);
    if (known) {
      this.parsed.delete(key);
      this.parsed.set(key, known);
      this.counts.fromCache++;
      // Each caller gets its own copy: nothing a caller does to its spec reaches another's.
      return Promise.resolve(structuredClone(known));
    }
    const underway = this.reading.get(key);
    if (underway) {
      this.counts.shared++;
      return new Promise<JobSpec>((resolve, reject) => underway.sharers.push({ resolve, reject }));
    }
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(backlogError());
    }
    return new Promise<JobSpec>((resolve, reject) => {
      const request: ParseRequest = { id: this.nextId++, text, path: opts.path, limits: this.limits };
      // Waiting for a worker is bounded too, more loosely than the parse itself.
      const job: Job = {
        request,
        file,
        key,
        resolve,
        reject,
        sharers: [],
        timer: this.timer(() => this.expire(job), this.deadlineMs * 5),
        askedAt: performance.now(),
      };
      this.waiting.push(job);
      this.reading.set(key, job);
      this.dispatch();
    });
  }

  /** What the pool has done so far (the server's /metrics shows it). */
  stats(): ParsePoolCounts {
    return { ...this.counts };
  }

  /** Terminates every worker; pending parses fail. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.backlogCheck);
    for (const job of this.waiting.splice(0))
      this.settle(job, new FedmlError(ResultCode.ERROR, "the server is shutting down", 503));
    await Promise.all(
      this.slots.splice(0).map(async (slot) => {
        if (slot.job) this.settle(slot.job, new FedmlError(ResultCode.ERROR, "the server is shutting down", 503));
        await slot.worker.terminate();
      }),
    );
  }

  private timer(fire: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(fire, ms);
    timer.unref();
    return timer;
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      const slot = this.slots.find((s) => s.ready && s.job === undefined);
      if (!slot) {
        if (this.slots.length < this.size && this.slots.every((s) => s.ready)) this.spawnIfBacklogged();
        return;
      }
      const job = this.waiting.shift() as Job;
      slot.job = job;
      job.slot = slot;
      clearTimeout(job.timer);
      job.timer = this.timer(() => this.expire(job), this.deadlineMs);
      slot.worker.ref();
      this.counts.readByWorkers++;
      slot.worker.postMessage(job.request);
    }
  }

  /** Another worker once the oldest waiting parse has waited SPAWN_AFTER_MS (none yet: the first). */
  private spawnIfBacklogged(): void {
    const waited = performance.now() - this.waiting[0].askedAt;
    if (this.slots.length === 0 || waited >= SPAWN_AFTER_MS) {
      this.spawn();
      return;
    }
    if (this.backlogCheck) return;
    this.backlogCheck = this.timer(() => {
      this.backlogCheck = undefined;
      this.dispatch();
    }, SPAWN_AFTER_MS - waited);
  }

  /** Starts a worker now, so that the first launch does not wait for one to load. */
  warm(): void {
    if (!this.closed && this.slots.length === 0) this.spawn();
  }

  private spawn(): Slot {
    const entry = fromSource
      ? `import("tsx/esm/api").then((tsx) => tsx.register()).then(() => import(${JSON.stringify(workerUrl.href)}));`
      : workerUrl;
    const start = (execArgv: string[]) =>
      new Worker(entry, { eval: fromSource, resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb }, execArgv });
    let worker: Worker;
    try {
      worker = start(workerExecArgv ?? withoutTestRunner(process.execArgv));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ERR_WORKER_INVALID_EXEC_ARGV" || workerExecArgv) throw err;
      workerExecArgv = loadersOnly(process.execArgv);
      worker = start(workerExecArgv);
    }
    const slot: Slot = { worker, ready: false };
    this.counts.workersStarted++;
    worker.unref();
    worker.on("message", (reply: ParseReply | "ready") => {
      if (reply === "ready") {
        slot.ready = true;
        this.dispatch();
        return;
      }
      const job = slot.job;
      if (!job || job.request.id !== reply.id) return;
      slot.job = undefined;
      worker.unref();
      if ("spec" in reply) {
        this.remember(job.request, reply.spec);
        this.settle(job, undefined, reply.spec);
      } else if ("error" in reply) this.settle(job, new FedmlError(reply.error.resultCode, reply.error.message, 400));
      // A parser that throws on some input is still that input's fault, as far as the caller goes.
      else
        this.settle(
          job,
          new FedmlError(
            ResultCode.LAUNCH_JOB_STATUS_INVALID,
            `${job.file}: the job YAML could not be read: ${reply.crash}`,
            400,
          ),
        );
      this.dispatch();
    });
    // Out of memory or any other death: the job on it fails, the slot is freed for a new worker.
    const lost = (why: string) => {
      if (!this.slots.includes(slot)) return;
      this.drop(slot);
      if (!slot.ready) {
        // It never started: fail what waits rather than start workers in a loop.
        for (const job of this.waiting.splice(0)) {
          this.settle(job, new FedmlError(ResultCode.ERROR, `the job YAML parser could not start: ${why}`, 500));
        }
        return;
      }
      if (slot.job) {
        const job = slot.job;
        slot.job = undefined;
        this.settle(
          job,
          new FedmlError(ResultCode.LAUNCH_JOB_STATUS_INVALID, `${job.file}: the job YAML could not be read: ${why}`, 400),
        );
      }
      this.dispatch();
    };
    worker.on("error", (err) => lost(err.message));
    worker.on("exit", () => lost("the parser stopped"));
    this.slots.push(slot);
    return slot;
  }

  private drop(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }

  private expire(job: Job): void {
    const slot = job.slot;
    if (!slot) {
      // No thread ready yet (the first, or the one replacing a thread ended at its deadline):
      // that is a start-up, not a backlog, and a loaded machine can take seconds over it.
      const starting = this.slots.length > 0 && this.slots.every((s) => !s.ready);
      if (starting && performance.now() - job.askedAt < MAX_START_WAIT_MS) {
        job.timer = this.timer(() => this.expire(job), this.deadlineMs);
        return;
      }
      const i = this.waiting.indexOf(job);
      if (i >= 0) this.waiting.splice(i, 1);
      this.settle(job, backlogError());
      return;
    }
    // The worker is busy with this document and will not answer soon: end it.
    slot.job = undefined;
    this.drop(slot);
    void slot.worker.terminate();
    this.settle(
      job,
      new FedmlError(
        ResultCode.LAUNCH_JOB_STATUS_INVALID,
        `${job.file}: reading the job YAML took longer than ${this.deadlineMs} ms; refused`,
        400,
      ),
    );
    this.dispatch();
  }

  private remember(request: ParseRequest, spec: JobSpec): void {
    if (this.cacheEntries === 0 || request.text.length > CACHE_MAX_CHARS) return;
    this.parsed.set(cacheKey(request.text, request.path), structuredClone(spec));
    if (this.parsed.size > this.cacheEntries) this.parsed.delete(this.parsed.keys().next().value as string);
  }

  private settle(job: Job, err: Error | undefined, spec?: JobSpec): void {
    clearTimeout(job.timer);
    if (this.reading.get(job.key) === job) this.reading.delete(job.key);
    // The copies are made before any caller's code runs on its spec.
    for (const sharer of job.sharers) {
      if (err) sharer.reject(err);
      else sharer.resolve(structuredClone(spec as JobSpec));
    }
    if (err) job.reject(err);
    else job.resolve(spec as JobSpec);
  }
}

/** The refusal of a parse that could not get a parser thread in time (the launch may be tried again). */
function backlogError(): FedmlError {
  return new FedmlError(ResultCode.ERROR, "too many job YAMLs are being read at once; try again shortly", 503);
}

/**
 * What of node's command line a parser thread gets. Module loaders (tsx, from source) must
 * carry over, and the test runner's flags would make the thread a test file. A V8 or
 * process-wide flag (`node --max-old-space-size=4096 fedml-server`, `--perf-basic-prof`)
 * makes `new Worker` throw: then only the loaders are passed, from then on.
 */
let workerExecArgv: string[] | undefined;

function withoutTestRunner(argv: readonly string[]): string[] {
  return argv.filter((arg) => !arg.startsWith("--test"));
}

const LOADER_FLAG = /^(--import|--loader|--experimental-loader|--require|-r|--conditions|-C)(=|$)/;

export function loadersOnly(argv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const match = LOADER_FLAG.exec(argv[i]);
    if (!match) continue;
    kept.push(argv[i]);
    // "--import tsx": the value is the next word.
    if (match[2] === "" && i + 1 < argv.length) kept.push(argv[++i]);
  }
  return kept;
}

/** The parse depends on the text and the path (named in its errors and defaults) only. */
function cacheKey(text: string, path: string | undefined): string {
  return `${path ?? ""}\u0000${text}`;
}
