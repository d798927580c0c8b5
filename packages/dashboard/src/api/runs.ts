import type {
  FedMLRunModel,
  FedMLRunModelList,
  LaunchResult,
  LogLinesResponse,
  RunLogResult,
  StopRunResponse,
} from "@fedml/core";
import { get, post } from "./client.js";

export type Run = FedMLRunModel;

export interface RunFilter {
  status?: string;
  runName?: string;
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
  const answer = await get<FedMLRunModelList & { nextCursor?: string | null }>("/runs", {
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
