import {
  FedmlError,
  type LogLinesResponse,
  type LogTextResponse,
  Paths,
  ResultCode,
  type RunLogResult,
  isTerminalRunStatus,
  planLogPage,
} from "@fedml/core";
import { type Endpoint, request } from "../http.js";
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
  const result = await fetchLogPage(endpoint, runId, pageNum, pageSize, options);
  if (!options.needAllLogs) return result;
  // Every line, a bounded page at a time: no one answer (nor its parse) holds a huge log.
  const logLineList: string[] = [];
  for (let num = 1; ; num++) {
    const all = await fetchLogPage(endpoint, runId, num, ALL_LOGS_PAGE, options);
    for (const text of all.logLineList) logLineList.push(text);
    if (num >= all.totalLogPages) break;
  }
  return { ...result, logLineList };
}

/** Lines per request when runLogs fetches every line. */
const ALL_LOGS_PAGE = 10_000;

function fetchLogPage(
  endpoint: Endpoint,
  runId: string,
  pageNum: number,
  pageSize: number,
  options: PlatformOptions,
): Promise<RunLogResult> {
  return request<RunLogResult>("GET", Paths.runLogs(runId), endpoint, {
    query: { pageNum, pageSize, platform: platformQuery(options.platform) },
  });
}

/** One node of a run: a device and the rank it runs. */
export interface LogNode {
  rank: number;
  deviceId: string;
  deviceName: string;
  /** Lines it has logged so far (numbered 1..lineCount). */
  lineCount: number;
}

/** A log line with the node that wrote it. */
export interface NodeLogLine {
  rank: number;
  deviceId: string;
  deviceName: string;
  seq: number;
  /** Epoch ms when the agent read the line (null from a server that does not say). */
  time: number | null;
  text: string;
}

/** The run's nodes in rank order, with their line counts. */
async function fetchLogNodes(
  endpoint: Endpoint,
  runId: string,
  options: PlatformOptions,
): Promise<{ runStatus: string; nodes: LogNode[] }> {
  const page = await fetchLogPage(endpoint, runId, 1, 1, options);
  const nodes = (page.runLogs?.logDevices ?? []).map((d, i) => ({
    rank: d.rank ?? i,
    deviceId: d.id,
    deviceName: d.name,
    lineCount: d.lineCount ?? 0,
  }));
  return { runStatus: page.runStatus ?? "UNDETERMINED", nodes };
}

const LINES_PER_REQUEST = 10_000;

/** Lines fromSeq..toSeq of one node, in as many requests as the server's limit needs. */
async function fetchNodeRange(
  endpoint: Endpoint,
  runId: string,
  node: LogNode,
  fromSeq: number,
  toSeq: number,
): Promise<NodeLogLine[]> {
  const out: NodeLogLine[] = [];
  let afterSeq = fromSeq - 1;
  while (afterSeq < toSeq) {
    const answer = await request<LogLinesResponse>("GET", Paths.runLogLines(runId), endpoint, {
      query: { deviceId: node.deviceId, afterSeq, limit: Math.min(LINES_PER_REQUEST, toSeq - afterSeq) },
    });
    for (const line of answer.lines) if (line.seq <= toSeq) out.push(tagged(node, line));
    if (answer.lines.length === 0) break;
    afterSeq = answer.lastSeq;
  }
  return out;
}

function tagged(node: LogNode, line: { seq: number; text: string; time?: number }): NodeLogLine {
  return {
    rank: node.rank,
    deviceId: node.deviceId,
    deviceName: node.deviceName,
    seq: line.seq,
    time: line.time ?? null,
    text: line.text,
  };
}

export interface NodeLogsOptions extends PlatformOptions {
  /** Only the node with this rank. */
  rank?: number | null;
  /** The last N lines of each node (the default view: 100). */
  tail?: number | null;
  /** A page of the nodes' lines concatenated in rank order (with `pageSize`), instead of a tail. */
  pageNum?: number | null;
  pageSize?: number | null;
  /** Every line. */
  all?: boolean;
}

/** `runNodeLogs`' answer. */
export interface NodeLogsResult {
  runStatus: string;
  /** The nodes shown (every node, or the one asked for), rank order. */
  nodes: LogNode[];
  /** Lines in rank order, each node's in seq order. */
  lines: NodeLogLine[];
  /** With a page: which one, and how many there are. */
  pageNum: number | null;
  totalPages: number | null;
}

const DEFAULT_TAIL = 100;

/**
 * Ours: a run's log lines tagged with the node (rank and device) that wrote them: the last
 * `tail` lines of each node (default 100), a page of them, or all of them; one node with `rank`.
 */
export async function runNodeLogs(runId: string, options: NodeLogsOptions & ApiOptions = {}): Promise<NodeLogsResult> {
  const endpoint = await resolveEndpoint(options);
  const { runStatus, nodes: every } = await fetchLogNodes(endpoint, runId, options);
  const nodes = selectNodes(every, options.rank);
  const lines: NodeLogLine[] = [];
  if (options.pageNum != null || options.pageSize != null) {
    const plan = planLogPage(
      nodes.map((n) => ({ deviceId: n.deviceId, count: n.lineCount })),
      options.pageNum ?? 1,
      options.pageSize ?? DEFAULT_TAIL,
    );
    for (const range of plan.ranges) {
      const node = nodes.find((n) => n.deviceId === range.deviceId) as LogNode;
      lines.push(...(await fetchNodeRange(endpoint, runId, node, range.fromSeq, range.toSeq)));
    }
    return { runStatus, nodes, lines, pageNum: plan.pageNum, totalPages: plan.totalPages };
  }
  for (const node of nodes) {
    const from = options.all ? 1 : Math.max(1, node.lineCount - (options.tail ?? DEFAULT_TAIL) + 1);
    if (node.lineCount >= from) lines.push(...(await fetchNodeRange(endpoint, runId, node, from, node.lineCount)));
  }
  return { runStatus, nodes, lines, pageNum: null, totalPages: null };
}

function selectNodes(nodes: LogNode[], rank: number | null | undefined): LogNode[] {
  if (rank === null || rank === undefined) return nodes;
  const chosen = nodes.filter((n) => n.rank === rank);
  if (chosen.length === 0 && nodes.length > 0) {
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      `the run has no node of rank ${rank} (ranks: ${nodes.map((n) => n.rank).join(", ")})`,
    );
  }
  return chosen;
}

export interface FollowOptions extends ApiOptions {
  /** Stops following (the promise rejects with the abort reason). */
  signal?: AbortSignal;
  /** Only this device of the run; default every node. */
  deviceId?: string | null;
  /** Only the node with this rank; default every node. */
  rank?: number | null;
  /** Start with the last N lines of each node (default: from each node's first line). */
  tail?: number | null;
}

const FOLLOW_WAIT_MS = 20_000;
/** The server's most per answer: a fast job's lines come in few requests. */
const FOLLOW_LINES_PER_REQUEST = 10_000;
/** A run still queued has no device yet, and the server may answer at once: don't spin. */
const IDLE_PAUSE_MS = 500;
/** How often to look for nodes that joined (a retry moves a run onto other devices). */
const DISCOVER_EVERY_MS = 2_000;

/**
 * Ours: streams a run's log lines, from every node (or the one asked for), as they arrive
 * (long-poll on `/log-lines/text`, one per node) until the run has ended and every line has been
 * delivered. `onLine` gets the text and the line with its node; `nodeCount` is how many
 * nodes are followed at that moment.
 *
 * @returns The run's final status.
 */
export async function followRunLogs(
  runId: string,
  onLine: (text: string, line: NodeLogLine, nodeCount: number) => void,
  options: FollowOptions = {},
): Promise<string> {
  const endpoint = await resolveEndpoint(options);
  const followers = new Map<string, Promise<string>>();
  let nodeCount = 0;
  let lookedAgain = false;
  const wanted = (node: LogNode) =>
    (options.deviceId == null || node.deviceId === options.deviceId) && (options.rank == null || node.rank === options.rank);
  for (;;) {
    options.signal?.throwIfAborted();
    const asked = Date.now();
    const { runStatus, nodes } = await fetchLogNodes(endpoint, runId, {});
    const followed = nodes.filter(wanted);
    nodeCount = Math.max(nodeCount, followed.length);
    for (const node of followed) {
      if (followers.has(node.deviceId)) continue;
      const afterSeq = options.tail == null ? 0 : Math.max(0, node.lineCount - options.tail);
      const deliver = (line: NodeLogLine) => onLine(line.text, line, nodeCount);
      followers.set(node.deviceId, followNode(endpoint, runId, node, afterSeq, deliver, options.signal));
    }
    if (followers.size === 0) {
      if (isTerminalRunStatus(runStatus)) return runStatus;
      // No node yet (queued): wait on the server until the run's first lines or its end.
      const first = await request<LogLinesResponse>("GET", Paths.runLogLines(runId), endpoint, {
        query: { afterSeq: 0, waitMs: FOLLOW_WAIT_MS },
        signal: options.signal,
      });
      // Lines or a node now: look again at once (a pause here held a run's first lines back),
      // but only once: a node that is not the one followed answers at once every time.
      const news = first.lines.length > 0 || first.deviceId !== null || first.done;
      if ((!news || lookedAgain) && Date.now() - asked < IDLE_PAUSE_MS) await pause(IDLE_PAUSE_MS, options.signal);
      lookedAgain = news;
      continue;
    }
    const all = Promise.all(followers.values());
    const finished = await Promise.race([all, pause(DISCOVER_EVERY_MS, options.signal).then(() => null)]);
    if (finished) {
      // Every node ended: one last look for a node that joined meanwhile.
      const latest = await fetchLogNodes(endpoint, runId, {});
      if (latest.nodes.filter(wanted).every((n) => followers.has(n.deviceId))) return finished[0] ?? latest.runStatus;
    }
  }
}

/** Long-polls one node until the run has ended and the node's every line is delivered. */
async function followNode(
  endpoint: Endpoint,
  runId: string,
  node: LogNode,
  afterSeq: number,
  onLine: (line: NodeLogLine) => void,
  signal: AbortSignal | undefined,
): Promise<string> {
  let asText = true;
  for (;;) {
    signal?.throwIfAborted();
    const asked = Date.now();
    const query = { deviceId: node.deviceId, afterSeq, waitMs: FOLLOW_WAIT_MS, limit: FOLLOW_LINES_PER_REQUEST };
    let answer: { lastSeq: number; done: boolean; runStatus: string };
    let count = 0;
    if (asText) {
      try {
        const text = await request<LogTextResponse>("GET", Paths.runLogText(runId), endpoint, { query, signal });
        count = deliverText(node, text, onLine);
        answer = text;
      } catch (error) {
        // A server from before the text answer: lines one by one from then on.
        if (!(error instanceof FedmlError && error.httpStatus === 404 && error.resultCode === ResultCode.ERROR)) throw error;
        asText = false;
        continue;
      }
    } else {
      const lines = await request<LogLinesResponse>("GET", Paths.runLogLines(runId), endpoint, { query, signal });
      for (const line of lines.lines) onLine(tagged(node, line));
      count = lines.lines.length;
      answer = lines;
    }
    afterSeq = Math.max(afterSeq, answer.lastSeq);
    if (answer.done) return answer.runStatus;
    if (count === 0 && Date.now() - asked < IDLE_PAUSE_MS) await pause(IDLE_PAUSE_MS, signal);
  }
}

/** Hands a text answer's lines to onLine one by one, in order; answers how many. */
function deliverText(node: LogNode, answer: LogTextResponse, onLine: (line: NodeLogLine) => void): number {
  let seq = answer.firstSeq;
  let run = 0;
  let leftInRun = answer.runs[0]?.[0] ?? 0;
  for (const [count, text] of answer.blocks) {
    const lines = count === 1 ? [text] : text.split("\n");
    for (const line of lines) {
      while (leftInRun === 0 && run < answer.runs.length - 1) leftInRun = answer.runs[++run][0];
      leftInRun--;
      onLine(tagged(node, { seq: seq++, text: line, time: answer.runs[run]?.[1] }));
    }
  }
  return seq - answer.firstSeq;
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    timer.unref?.();
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
