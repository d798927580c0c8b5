import type {
  FedMLRunModel,
  FedMLRunModelList,
  LaunchResult,
  LogLinesResponse,
  LogSearchResponse,
  RunDetail,
  RunLogResult,
  StopRunResponse,
} from "@fedml/core";
import { get, post } from "./client.js";

export type Run = FedMLRunModel;

export interface RunFilter {
  /** Comma-separated statuses. */
  status?: string;
  nameContains?: string;
  project?: string;
  platform?: string;
}

export interface RunPage {
  runs: Run[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export async function listRuns(
  filter: RunFilter,
  page: { limit: number; before?: string },
  signal?: AbortSignal,
): Promise<RunPage> {
  const answer = await get<FedMLRunModelList>("/runs", {
    query: { ...filter, limit: page.limit, before: page.before },
    signal,
  });
  return { runs: answer.runList, nextCursor: answer.nextCursor ?? null };
}

export const getRun = (id: string, signal?: AbortSignal) => get<Run>(`/runs/${encodeURIComponent(id)}`, { signal });

export const stopRun = (id: string) => post<StopRunResponse>(`/runs/${encodeURIComponent(id)}/stop`);

export const launchRun = (request: {
  yamlText: string;
  yamlPath?: string;
  workspaceName?: string | null;
  workspaceSha256: string | null;
}) => post<LaunchResult>("/runs", { body: request });

/** Counts per node (and the run's status) without any lines. */
export const logSummary = (id: string, signal?: AbortSignal) =>
  get<RunLogResult>(`/runs/${encodeURIComponent(id)}/logs`, { query: { pageNum: 1, pageSize: 1 }, signal });

/** Lines afterSeq+1.. of one node; with waitMs, held until there is one or the run ends. */
export const logLines = (
  id: string,
  query: { deviceId: string; afterSeq: number; limit: number; waitMs?: number },
  signal?: AbortSignal,
) => get<LogLinesResponse>(`/runs/${encodeURIComponent(id)}/log-lines`, { query, signal });

/** The job YAML and when the run was placed. */
export const getRunDetail = (id: string, signal?: AbortSignal) =>
  get<RunDetail>(`/runs/${encodeURIComponent(id)}/detail`, { signal });

/** The next line of a node containing `text` (any case), after or before a line. */
export const searchLog = (
  id: string,
  query: { deviceId: string; text: string; afterSeq?: number; beforeSeq?: number },
  signal?: AbortSignal,
) => get<LogSearchResponse>(`/runs/${encodeURIComponent(id)}/log-search`, { query, signal });
