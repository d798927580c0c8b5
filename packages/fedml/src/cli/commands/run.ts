/** `fedml run list | status | logs | stop`. */
import type { Command } from "commander";
import { FedmlError, type FedMLRunModel, ResultCode } from "@fedml/core";
import { api } from "../../api/index.js";
import { action, parseInteger } from "../action.js";
import { formatDuration, formatTable, formatTime, printJson, printLine, printNote } from "../output.js";

export function registerRunCommands(program: Command): void {
  const run = program.command("run").description("list, inspect, read the logs of, and stop runs");

  run
    .command("list")
    .description("your runs (all, or those with a name or id)")
    .option("--name <name>", "only runs with this name")
    .option("--id <runId>", "only this run")
    .option("--platform <platform>", "only runs on this platform (octopus, parrot, spider, beehive, falcon, launch, cheetah)")
    .option("--json", "print the SDK's FedMLRunModelList as JSON")
    .action(
      action(async (flags: { name?: string; id?: string; platform?: string; json?: boolean }) => {
        const result = await api.runList(flags.name ?? null, { runId: flags.id ?? null, platform: flags.platform });
        if (flags.json) return printJson(result);
        printRuns(result.runList);
      }),
    );

  run
    .command("status")
    .description("the status of one run")
    .argument("[RUN_ID]", "the run's id")
    .option("--name <name>", "the run's name (instead of its id)")
    .option("--platform <platform>", "only runs on this platform (octopus, parrot, spider, beehive, falcon, launch, cheetah)")
    .option("--json", "print the SDK's RunStatusResult as JSON: {runList, status}")
    .action(
      action(async (runId: string | undefined, flags: { name?: string; platform?: string; json?: boolean }) => {
        if (!runId && !flags.name) {
          throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, "give a RUN_ID or --name NAME");
        }
        const result = await api.runStatus(flags.name ?? null, runId ?? null, { platform: flags.platform });
        if (flags.json) return printJson(result);
        const found = result.runList.runList[0];
        printRuns([found]);
        if (found.reason) printLine(`reason: ${found.reason}`);
      }),
    );

  run
    .command("logs")
    .description("a run's output: one page, all of it (--all), or followed live (-f)")
    .argument("<RUN_ID>", "the run's id")
    .option("--page <n>", "1-based page", parseInteger("--page"), 1)
    .option("--size <m>", "lines per page", parseInteger("--size"), 100)
    .option("--all", "every line")
    .option("-f, --follow", "follow new lines until the run ends")
    .option("--platform <platform>", "only runs on this platform (octopus, parrot, spider, beehive, falcon, launch, cheetah)")
    .option("--json", "print the SDK's RunLogResult as JSON (with -f: {runId, status}, lines on stderr)")
    .action(
      action(
        async (
          runId: string,
          flags: { page: number; size: number; all?: boolean; follow?: boolean; platform?: string; json?: boolean },
        ) => {
          if (flags.follow) {
            const say = flags.json ? printNote : printLine;
            const status = await api.followRunLogs(runId, say);
            if (flags.json) printJson({ runId, status });
            else printNote(`run ${runId} ${status}`);
            return 0;
          }
          const result = await api.runLogs(runId, flags.page, flags.size, { needAllLogs: flags.all, platform: flags.platform });
          if (flags.json) return printJson(result);
          const lines = flags.all ? result.logLineList : (result.runLogs?.logLines ?? result.logLineList);
          for (const line of lines) printLine(line);
          const page = flags.all ? "all pages" : `page ${flags.page}/${result.totalLogPages}`;
          printNote(`-- ${page}, ${result.totalLogLines} lines in all; run ${result.runStatus ?? "UNDETERMINED"}`);
        },
      ),
    );

  run
    .command("stop")
    .description("stop a run (its processes get SIGTERM, then SIGKILL)")
    .argument("<RUN_ID>", "the run's id")
    .option("--platform <platform>", "only runs on this platform (octopus, parrot, spider, beehive, falcon, launch, cheetah)")
    .option("--json", "print the SDK's answer as JSON: true or false")
    .action(
      action(async (runId: string, flags: { platform?: string; json?: boolean }) => {
        const stopped = await api.runStop(runId, { platform: flags.platform });
        if (flags.json) printJson(stopped);
        else printLine(stopped ? `run ${runId} is stopping` : `run ${runId} was not stopped (it had ended)`);
        return stopped ? 0 : 1;
      }),
    );
}

function printRuns(runs: readonly FedMLRunModel[]): void {
  printLine(
    formatTable(runs, [
      { header: "RUN ID", value: (r) => String(r.runId) },
      { header: "NAME", value: (r) => r.runName },
      { header: "STATUS", value: (r) => r.status },
      { header: "STARTED", value: (r) => formatTime(r.startedTime) },
      { header: "TIME", value: (r) => formatDuration(r.runningTime), alignRight: true },
      { header: "COST", value: (r) => `$${r.cost.toFixed(2)}`, alignRight: true },
      { header: "DEVICES", value: (r) => r.deviceInfos.map((d) => d.name ?? d.deviceId).join(",") || "-" },
    ]),
  );
}
