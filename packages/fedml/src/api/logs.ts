import { type LogLinesResponse, Paths, type RunLogResult } from "@fedml/core";
import { request } from "../http.js";
import { type ApiOptions, resolveEndpoint } from "./connection.js";
import { type PlatformOptions, platformQuery } from "./runs.js";

export interface RunLogsOptions extends PlatformOptions {
  /** Fetch every page, not only `pageNum`. */
  needAllLogs?: boolean;
}

/**
 * Fetches logs of run from FedML AI Nexus platform.
 *
 * ```py
 * fedml.api.run_logs(run_id, page_num, page_size, need_all_logs=False, platform="falcon", api_key=None)
 * ```
 *
 * @param runId Id of the run to fetch logs of.
 * @param pageNum 1-based page number.
 * @param pageSize Lines per page.
 * @returns `RunLogResult`: `runStatus`, `totalLogLines`, `totalLogPages`, `logLineList` (full list
 *   of lines) and `runLogs` (`FedMLRunLogModelList` with `logLines`, `logFullUrl`, `logDevices` etc.).
 */
export async function runLogs(runId: string, pageNum = 1, pageSize = 10, options: RunLogsOptions = {}): Promise<RunLogResult> {
  const endpoint = await resolveEndpoint(options);
  const page = (num: number, size: number) =>
    request<RunLogResult>("GET", Paths.runLogs(runId), endpoint, {
      query: { pageNum: num, pageSize: size, platform: platformQuery(options.platform) },
    });
  const result = await page(pageNum, pageSize);
  if (!options.needAllLogs) return result;
  // Every line, a bounded page at a time: no one answer (nor its parse) holds a huge log.
  const logLineList: string[] = [];
  for (let num = 1; ; num++) {
    const all = await page(num, ALL_LOGS_PAGE);
    for (const text of all.logLineList) logLineList.push(text);
    if (num >= all.totalLogPages) break;
  }
  return { ...result, logLineList };
}

/** Lines per request when runLogs fetches every line. */
const ALL_LOGS_PAGE = 10_000;

export interface FollowOptions extends ApiOptions {
  /** Stops following (the promise rejects with the abort reason). */
  signal?: AbortSignal;
  /** A device of the run; default the run's first device. */
  deviceId?: string | null;
  /** Lines with seq above this only; default 0 (from the start). */
  afterSeq?: number;
}

const FOLLOW_WAIT_MS = 20_000;
/** A run still queued has no device yet, and the server may answer at once: don't spin. */
const IDLE_PAUSE_MS = 500;

/**
 * Ours: streams a run's log lines as they arrive (long-poll on `/log-lines`) until the run has
 * ended and every line has been delivered.
 *
 * @returns The run's final status.
 */
export async function followRunLogs(runId: string, onLine: (text: string) => void, options: FollowOptions = {}): Promise<string> {
  const endpoint = await resolveEndpoint(options);
  let afterSeq = options.afterSeq ?? 0;
  let deviceId = options.deviceId ?? null;
  for (;;) {
    options.signal?.throwIfAborted();
    const asked = Date.now();
    const answer = await request<LogLinesResponse>("GET", Paths.runLogLines(runId), endpoint, {
      query: { deviceId: deviceId ?? undefined, afterSeq, waitMs: FOLLOW_WAIT_MS },
      signal: options.signal,
    });
    // Stay on one device once the server has picked it, so that seq numbers stay comparable.
    deviceId = answer.deviceId ?? deviceId;
    for (const line of answer.lines) onLine(line.text);
    afterSeq = Math.max(afterSeq, answer.lastSeq);
    if (answer.done) return answer.runStatus;
    if (answer.lines.length === 0 && Date.now() - asked < IDLE_PAUSE_MS) {
      await new Promise((resolve) => setTimeout(resolve, IDLE_PAUSE_MS));
    }
  }
}
