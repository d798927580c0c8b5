/** `fedml run list | status | logs | stop`. */
import type { Command } from "commander";
import { FedmlError, type FedMLRunModel, ResultCode, isTerminalRunStatus } from "@fedml/core";
import { api } from "../../api/index.js";
import type { NodeLogLine } from "../../api/logs.js";
import { action, parseInteger } from "../action.js";
import { exitCodeOfRun } from "../exit-code.js";
import { formatDuration, formatTable, formatTime, formatUsd, printJson, printLine, printNote } from "../output.js";

const PLATFORM_HELP = "only runs on this platform (octopus, parrot, spider, beehive, falcon, launch, cheetah)";
const RUN_ID_HELP = "the run's id (the original CLI's -rid/--run_id works too)";

/** The run id: the argument, or the original CLI's `--run_id`. */
function runIdOf(argument: string | undefined, flags: { runId?: string }): string {
  const runId = argument ?? flags.runId;
  if (!runId) throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, "give a RUN_ID (or --run-id RUN_ID)");
  return runId;
}

export function registerRunCommands(program: Command): void {
  const run = program.command("run").description("list, inspect, read the logs of, and stop runs");

  run
    .command("list")
    .description("your runs, newest first (all, or those with a name, id or status)")
    .option("--name <name>", "only runs with this name")
    .option("--id <runId>", "only this run")
    .option("--status <statuses>", "only runs in these statuses, comma-separated (e.g. RUNNING,QUEUED)")
    .option("--limit <n>", "at most N runs, newest first (1..1000)", parseInteger("--limit"))
    .option("--watch [seconds]", "print the list again every few seconds (default 2) until interrupted")
    .option("--all-users", "admins: every user's runs")
    .option("--platform <platform>", PLATFORM_HELP)
    .option("--json", "print the SDK's FedMLRunModelList as JSON")
    .action(
      action(async (flags: RunListFlags) => {
        const list = () =>
          api.runList(flags.name ?? null, {
            runId: flags.id ?? null,
            platform: flags.platform,
            status: parseStatuses(flags.status),
            limit: flags.limit,
            allUsers: flags.allUsers,
          });
        if (flags.watch === undefined) {
          const result = await list();
          if (flags.json) return printJson(result);
          printRuns(result.runList);
          return;
        }
        await watchRuns(list, watchSeconds(flags.watch), flags.json === true);
      }),
    );

  run
    .command("status")
    .description("the status of one run")
    .argument("[RUN_ID]", RUN_ID_HELP)
    .option("--run-id <runId>", "the run's id (instead of the argument)")
    .option("--name <name>", "the run's name (instead of its id)")
    .option("--platform <platform>", PLATFORM_HELP)
    .option("--json", "print the SDK's RunStatusResult as JSON: {runList, status}")
    .action(
      action(async (runId: string | undefined, flags: { name?: string; runId?: string; platform?: string; json?: boolean }) => {
        const id = runId ?? flags.runId;
        if (!id && !flags.name) {
          throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, "give a RUN_ID or --name NAME");
        }
        const result = await api.runStatus(flags.name ?? null, id ?? null, { platform: flags.platform });
        if (flags.json) return printJson(result);
        const found = result.runList.runList[0];
        printRuns([found]);
        if (found.reason) printLine(`reason: ${found.reason}`);
      }),
    );

  run
    .command("logs")
    .description(
      "a run's output, every node's (tagged [rank N device] when there are several): the last 100 lines of each " +
        "node, --tail N, a --page, --all, or followed live (-f, exits as fedml launch does)",
    )
    .argument("[RUN_ID]", RUN_ID_HELP)
    .option("--run-id <runId>", "the run's id (instead of the argument)")
    .option("--tail <n>", "the last N lines of each node (default 100); with -f: start there", parseInteger("--tail"))
    .option(
      "--page <n>",
      "1-based page of the nodes' lines in rank order (the original's -pn/--page_num)",
      parseInteger("--page"),
    )
    .option("--size <m>", "lines per page, default 100 (the original's -ps/--page_size)", parseInteger("--size"))
    .option("--all", "every line")
    .option(
      "--node <rank>",
      "only the node of this rank (0 = the first node, or a federated run's server)",
      parseInteger("--node"),
    )
    .option("--timestamps", "prefix each line with the time the agent read it")
    .option("-f, --follow", "follow new lines of every node until the run ends; exit with the run's exit code")
    .option("--platform <platform>", PLATFORM_HELP)
    .option("--json", "print the SDK's runNodeLogs answer as JSON (with -f: {runId, status, exitCode}, lines on stderr)")
    .action(action((runId: string | undefined, flags: LogsFlags) => logsCommand(runIdOf(runId, flags), flags)));

  run
    .command("stop")
    .description("stop a run (its processes get SIGTERM, then SIGKILL)")
    .argument("[RUN_ID]", RUN_ID_HELP)
    .option("--run-id <runId>", "the run's id (instead of the argument)")
    .option("--platform <platform>", PLATFORM_HELP)
    .option("--json", "print the SDK's answer as JSON: true or false")
    .action(
      action(async (runId: string | undefined, flags: { runId?: string; platform?: string; json?: boolean }) => {
        const id = runIdOf(runId, flags);
        const stopped = await api.runStop(id, { platform: flags.platform });
        if (flags.json) printJson(stopped);
        else printLine(stopped ? `run ${id} is stopping` : `run ${id} was not stopped (it had ended)`);
        return stopped ? 0 : 1;
      }),
    );
}

interface RunListFlags {
  name?: string;
  id?: string;
  status?: string;
  limit?: number;
  watch?: string | boolean;
  allUsers?: boolean;
  platform?: string;
  json?: boolean;
}

function parseStatuses(value: string | undefined): string[] | null {
  if (value === undefined) return null;
  const statuses = value
    .split(",")
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== "");
  const unknown = statuses.filter((s) => !/^[A-Z_]+$/.test(s));
  if (statuses.length === 0 || unknown.length > 0) {
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      `--status must name run statuses, e.g. RUNNING,QUEUED; got ${value}`,
    );
  }
  return statuses;
}

function watchSeconds(value: string | boolean): number {
  if (value === true) return 2;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0.2) {
    throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `--watch must be at least 0.2 seconds, got ${value}`);
  }
  return seconds;
}

/** Prints the list, then again every `seconds`, until SIGINT (exit 0) or a failure. */
async function watchRuns(list: () => Promise<{ runList: FedMLRunModel[] }>, seconds: number, json: boolean): Promise<void> {
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  process.once("SIGINT", onInterrupt);
  try {
    while (!stop.signal.aborted) {
      const result = await list();
      if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else {
        if (process.stdout.isTTY) process.stdout.write("\x1b[2J\x1b[H");
        printLine(`${formatTime(Date.now())}  (every ${seconds}s; Ctrl-C stops)`);
        printRuns(result.runList);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, seconds * 1000);
        stop.signal.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  } finally {
    process.removeListener("SIGINT", onInterrupt);
  }
}

interface LogsFlags {
  runId?: string;
  tail?: number;
  page?: number;
  size?: number;
  all?: boolean;
  node?: number;
  timestamps?: boolean;
  follow?: boolean;
  platform?: string;
  json?: boolean;
}

async function logsCommand(runId: string, flags: LogsFlags): Promise<number | undefined> {
  const paged = flags.page !== undefined || flags.size !== undefined;
  const views = [paged, flags.all === true, flags.tail !== undefined && !flags.follow].filter(Boolean).length;
  if (views > 1) {
    throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, "give one of --tail, --page/--size and --all");
  }
  if (flags.follow) {
    const say = flags.json ? printNote : printLine;
    const status = await api.followRunLogs(runId, (_text, line, nodeCount) => say(formatLogLine(line, nodeCount, flags)), {
      rank: flags.node,
      tail: flags.tail,
    });
    const { runList } = await api.runStatus(null, runId);
    const exitCode = exitCodeOfRun(runList.runList[0]);
    if (flags.json) printJson({ runId, status, exitCode });
    else printNote(`run ${runId} ${status}`);
    return exitCode;
  }
  const result = await api.runNodeLogs(runId, {
    rank: flags.node,
    tail: flags.tail,
    pageNum: paged ? (flags.page ?? 1) : null,
    pageSize: paged ? (flags.size ?? 100) : null,
    all: flags.all,
    platform: flags.platform,
  });
  if (flags.json) {
    printJson(result);
    return;
  }
  const nodeCount = result.nodes.length;
  for (const line of result.lines) printLine(formatLogLine(line, nodeCount, flags));
  const lines = result.nodes.reduce((sum, n) => sum + n.lineCount, 0);
  const shown = result.pageNum !== null ? `page ${result.pageNum}/${result.totalPages}` : `${result.lines.length} lines shown`;
  const nodes = nodeCount === 1 ? "1 node" : `${nodeCount} nodes`;
  printNote(
    `-- ${shown}; ${lines} lines in all on ${nodes}; run ${result.runStatus}${isTerminalRunStatus(result.runStatus) ? "" : " (-f follows it)"}`,
  );
}

/** `[rank 1 h100-box] 2026-01-01T00:00:00.000Z text`: the node only when there are several. */
export function formatLogLine(line: NodeLogLine, nodeCount: number, flags: { timestamps?: boolean }): string {
  const node = nodeCount > 1 ? `[rank ${line.rank} ${line.deviceName}] ` : "";
  const time = flags.timestamps ? `${line.time === null ? "-" : new Date(line.time).toISOString()} ` : "";
  return `${node}${time}${line.text}`;
}

function printRuns(runs: readonly FedMLRunModel[]): void {
  const owner = runs.some((r) => r.ownerName !== undefined)
    ? [{ header: "OWNER", value: (r: FedMLRunModel) => r.ownerName ?? "-" }]
    : [];
  printLine(
    formatTable(runs, [
      ...owner,
      { header: "RUN ID", value: (r) => String(r.runId) },
      { header: "NAME", value: (r) => r.runName },
      { header: "STATUS", value: (r) => r.status },
      { header: "STARTED", value: (r) => formatTime(r.startedTime) },
      { header: "TIME", value: (r) => formatDuration(r.runningTime), alignRight: true },
      { header: "COST", value: (r) => formatUsd(r.cost), alignRight: true },
      { header: "DEVICES", value: (r) => r.deviceInfos.map((d) => d.name ?? d.deviceId).join(",") || "-" },
    ]),
  );
}
