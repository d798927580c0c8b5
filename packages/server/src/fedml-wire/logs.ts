import { text as streamText } from "node:stream/consumers";
import type { RunLogResult } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { runLogPage } from "../runs/log-read.js";
import type { RunRow } from "../store/runs.js";

/**
 * One page of a run's log in both field sets the client has read over its versions. The page
 * comes from the native reader (bounded by pageSize), so the two APIs page alike.
 */
export async function wireLogPage(ctx: ServerContext, run: RunRow, pageNum: number, pageSize: number) {
  const page = JSON.parse(await streamText(await runLogPage(ctx, run, pageNum, pageSize, false))) as RunLogResult;
  const logs = page.runLogs ?? { logFullUrl: "", logDevices: [], totalNum: 0, totalPages: 0, currentPage: pageNum, logLines: [] };
  const lines = logs.logLines;
  return {
    totalSize: logs.totalNum,
    totalPages: logs.totalPages,
    pageNum: logs.currentPage,
    logList: lines,
    log_full_url: logs.logFullUrl,
    devices: logs.logDevices.map((d) => ({ id: d.id, name: d.name, log_url: d.logUrl })),
    total_num: logs.totalNum,
    total_pages: logs.totalPages,
    current_page: logs.currentPage,
    logs: lines,
  };
}
