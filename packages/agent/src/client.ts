/**
 * HTTP client for the agent routes. Connection errors, timeouts and 5xx answers are retried
 * with capped exponential backoff for as long as the daemon runs (the server may be down for
 * minutes); 4xx answers are the server's word and are thrown as FedmlError at once. With
 * several server URLs (replicas of one server) a failed attempt moves to the next URL, and the
 * client stays on one that answers; every agent call may be repeated safely (reports name the
 * state they report, log batches carry their sequence numbers).
 */
import type { Readable } from "node:stream";
import {
  type AssignmentsResponse,
  type ErrorBody,
  FedmlError,
  type HelloRequest,
  type HelloResponse,
  type LogBatchConflictBody,
  type LogBatchResponse,
  type LogLine,
  type LogTextBatch,
  Paths,
  ResultCode,
  type RunReportBatchResponse,
  type RunReportEntry,
  type RunReportOutcome,
  type RunStatusReport,
  ServerList,
  type ServingReport,
} from "@fedml/core/contract";
import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay, sleep } from "./backoff.js";
import { type HttpAnswer, httpCall } from "./http-request.js";
import { type Logger, silentLogger } from "./log.js";

export interface AgentClientOptions {
  /** One URL, or several replicas' separated by commas. */
  serverUrl: string;
  deviceToken: string;
  /** Aborting it ends every retry loop: pending calls reject with AgentStoppedError. */
  signal?: AbortSignal;
  backoff?: BackoffOptions;
  log?: Logger;
  /** Called on each failed attempt that will be retried (the daemon re-sends hello afterwards). */
  onConnectionError?: (error: Error) => void;
  requestTimeoutMs?: number;
}

export class AgentStoppedError extends Error {
  constructor() {
    super("the agent is stopping");
    this.name = "AgentStoppedError";
  }
}

/** Thrown on one attempt when the answer should be retried (5xx, connection trouble). */
class RetryableError extends Error {}

interface CallOptions {
  body?: unknown;
  /** Ends this one call's retries (the daemon aborts its long poll at shutdown). */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Non-2xx statuses handed back to the caller instead of thrown. */
  acceptStatus?: number[];
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class AgentClient {
  /** Cleared on the first 404 of the batch route: a server from before it takes reports one by one. */
  private batchReports = true;
  /** Cleared on a 404 of the log text route (a server from before it): lines then go one by one. */
  private logText = true;
  private readonly servers: ServerList;
  private readonly backoff: BackoffOptions;
  private readonly log: Logger;

  constructor(private readonly options: AgentClientOptions) {
    this.servers = ServerList.parse(options.serverUrl);
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.log = options.log ?? silentLogger;
  }

  /** The server URL in use now. */
  get serverUrl(): string {
    return this.servers.current;
  }

  hello(request: HelloRequest, signal?: AbortSignal): Promise<HelloResponse> {
    return this.json<HelloResponse>("POST", Paths.agentHello, { body: request, signal });
  }

  assignments(since: number, waitMs: number, signal?: AbortSignal): Promise<AssignmentsResponse> {
    const path = `${Paths.agentAssignments}?since=${since}&waitMs=${waitMs}`;
    return this.json<AssignmentsResponse>("GET", path, { signal, timeoutMs: waitMs + DEFAULT_TIMEOUT_MS });
  }

  // The answers' bodies are read even when unused: that frees the keep-alive socket.
  async reportStatus(runId: string, report: RunStatusReport): Promise<void> {
    await (await this.call("POST", Paths.agentRunStatus(runId), { body: report })).text();
  }

  /** Several runs' reports in one request, one outcome each (a 4xx outcome is that report's refusal). */
  async reportStatuses(entries: RunReportEntry[]): Promise<RunReportOutcome[]> {
    if (this.batchReports) {
      try {
        const response = await this.call("POST", Paths.agentReports, { body: { reports: entries } });
        return ((await response.json()) as RunReportBatchResponse).results;
      } catch (error) {
        if (!(error instanceof FedmlError && error.httpStatus === 404)) throw error;
        this.batchReports = false;
      }
    }
    const outcomes: RunReportOutcome[] = [];
    for (const { runId, ...report } of entries) {
      try {
        await this.reportStatus(runId, report);
        outcomes.push({ status: 200 });
      } catch (error) {
        if (!(error instanceof FedmlError && error.httpStatus !== undefined && error.httpStatus < 500)) throw error;
        outcomes.push({ status: error.httpStatus, resultCode: error.resultCode, error: error.message });
      }
    }
    return outcomes;
  }

  async reportServing(runId: string, report: ServingReport): Promise<void> {
    await (await this.call("POST", Paths.agentRunServing(runId), { body: report })).text();
  }

  /**
   * A 409 (the batch does not follow what the server holds) also answers the ackedSeq to resend from.
   * The lines go as one text (no JSON object per line to build, parse and check), or one by
   * one when a line holds "\n" or the server is older than the text route.
   */
  async sendLogs(runId: string, lines: LogLine[]): Promise<LogBatchResponse & { conflict: boolean }> {
    const batch = this.logText ? logTextOf(lines) : null;
    if (batch) {
      try {
        return await this.sendLogBody(runId, Paths.agentRunLogText(runId), batch);
      } catch (error) {
        if (!(error instanceof FedmlError && error.httpStatus === 404 && error.resultCode !== ResultCode.JOB_NOT_EXISTS))
          throw error;
        this.logText = false;
      }
    }
    return this.sendLogBody(runId, Paths.agentRunLogs(runId), { lines });
  }

  private async sendLogBody(runId: string, path: string, batch: unknown): Promise<LogBatchResponse & { conflict: boolean }> {
    const response = await this.call("POST", path, { body: batch, acceptStatus: [409] });
    const body = (await response.json()) as LogBatchResponse | LogBatchConflictBody;
    if (typeof body.ackedSeq !== "number") {
      throw new FedmlError(ResultCode.ERROR, `the server's answer to a log batch of run ${runId} lacks ackedSeq`);
    }
    return { ackedSeq: body.ackedSeq, conflict: response.status === 409 };
  }

  /** Streams the workspace tar.gz into `file` (the caller verifies its sha256). */
  /** A workspace's bytes as the server streams them (read them within the call's 10 minutes). */
  async openWorkspace(sha256: string): Promise<Readable> {
    const response = await this.call("GET", Paths.agentWorkspace(sha256), { timeoutMs: 10 * 60_000 });
    return response.body;
  }

  private async json<T>(method: string, path: string, options: CallOptions): Promise<T> {
    const response = await this.call(method, path, options);
    return (await response.json()) as T;
  }

  /** Retries until a non-retryable answer arrives or the agent (or this call) is stopped. */
  async call(method: string, path: string, options: CallOptions = {}): Promise<HttpAnswer> {
    const signals = [this.options.signal, options.signal].filter((s): s is AbortSignal => s !== undefined);
    const stop = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    for (let attempt = 0; ; attempt++) {
      if (stop?.aborted) throw new AgentStoppedError();
      try {
        return await this.attempt(method, path, options, stop);
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        if (stop?.aborted) throw new AgentStoppedError();
        this.options.onConnectionError?.(error);
        // Log the first failure and then ever more rarely, so a long outage does not flood agent.log.
        if ((attempt & (attempt + 1)) === 0)
          this.log(`${method} ${path} failed (try ${attempt + 1}), retrying: ${error.message}`);
        // Another replica is tried at once; the backoff applies once every URL has failed in turn.
        const count = this.servers.urls.length;
        if ((attempt + 1) % count === 0) await sleep(backoffDelay(Math.floor(attempt / count), this.backoff), stop);
      }
    }
  }

  private async attempt(method: string, path: string, options: CallOptions, stop?: AbortSignal): Promise<HttpAnswer> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS);
    const signal = stop ? AbortSignal.any([stop, timeout]) : timeout;
    const baseUrl = this.servers.current;
    let response: HttpAnswer;
    try {
      response = await httpCall(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.options.deviceToken}`,
          ...(options.body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal,
      });
    } catch (error) {
      this.servers.failed(baseUrl);
      throw new RetryableError(describeFetchError(error, baseUrl));
    }
    if (response.ok || options.acceptStatus?.includes(response.status)) return response;
    const text = await response.text().catch(() => "");
    if (response.status >= 500) {
      this.servers.failed(baseUrl);
      throw new RetryableError(`${baseUrl} answered HTTP ${response.status} ${firstLine(text)}`);
    }
    throw serverError(response.status, text, `${method} ${path}`);
  }
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0]?.slice(0, 300) ?? "";
}

function describeFetchError(error: unknown, baseUrl: string): string {
  const e = error as Error & { code?: string; cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return `no answer from ${baseUrl} in time`;
  const cause = e.code ?? e.cause?.code ?? e.cause?.message;
  return `cannot reach ${baseUrl}${cause ? ` (${cause})` : `: ${e.message}`}`;
}

/** The server's one-line error with its result code; a bare status when the body is not an ErrorBody. */
export function serverError(status: number, text: string, what: string): FedmlError {
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (typeof body.error === "string" || typeof body.resultMsg === "string") {
      return new FedmlError(body.resultCode ?? ResultCode.ERROR, body.error ?? String(body.resultMsg), status);
    }
  } catch {
    // not JSON: fall through to the generic message
  }
  return new FedmlError(ResultCode.ERROR, `${what} answered HTTP ${status}${text ? `: ${firstLine(text)}` : ""}`, status);
}

/** Lines with contiguous seqs as one LogTextBatch; null when a line holds "\n" (the text could not say where it ends). */
export function logTextOf(lines: readonly LogLine[]): LogTextBatch | null {
  if (lines.length === 0) return null;
  let text = "";
  const runs: LogTextBatch["runs"] = [];
  let last: LogTextBatch["runs"][number] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.seq !== lines[0].seq + i || line.text.includes("\n")) return null;
    text += `${line.text}\n`;
    const stream = line.stream === "stderr" ? 1 : 0;
    if (last && last[1] === line.time && last[2] === stream) last[0]++;
    else {
      last = [1, line.time, stream];
      runs.push(last);
    }
  }
  return { firstSeq: lines[0].seq, text, runs };
}
