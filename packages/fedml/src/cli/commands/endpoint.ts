/** `fedml endpoint list | status | delete`: serving endpoints of serve / deploy jobs. */
import type { Command } from "commander";
import type { EndpointModel } from "@fedml/core";
import { api } from "../../api/index.js";
import { action } from "../action.js";
import { formatTable, formatTime, printJson, printLine } from "../output.js";

export function registerEndpointCommands(program: Command): void {
  const endpoint = program.command("endpoint").description("serving endpoints: list, status, delete");

  endpoint
    .command("list")
    .description("your live endpoints")
    .option("--json", "print the SDK's object: {endpointList}")
    .action(
      action(async (flags: { json?: boolean }) => {
        const result = await api.endpointList();
        if (flags.json) return printJson(result);
        printEndpoints(result.endpointList);
      }),
    );

  endpoint
    .command("status")
    .description("one endpoint: DEPLOYING, READY, REMOVED or FAILED, and where to send requests")
    .argument("<ENDPOINT_ID>", "the endpoint's id (the launch's innerId)")
    .option("--json", "print the SDK's EndpointModel as JSON")
    .action(
      action(async (endpointId: string, flags: { json?: boolean }) => {
        const result = await api.endpointStatus(endpointId);
        if (flags.json) return printJson(result);
        printEndpoints([result]);
      }),
    );

  endpoint
    .command("delete")
    .description("stop the endpoint's run and remove the endpoint")
    .argument("<ENDPOINT_ID>", "the endpoint's id")
    .option("--json", "print the SDK's answer as JSON: {deleted, endpointId, runId}")
    .action(
      action(async (endpointId: string, flags: { json?: boolean }) => {
        const result = await api.endpointDelete(endpointId);
        if (flags.json) printJson(result);
        else printLine(`endpoint ${result.endpointId} removed; run ${result.runId} is stopping`);
        return result.deleted ? 0 : 1;
      }),
    );
}

function printEndpoints(endpoints: readonly EndpointModel[]): void {
  printLine(
    formatTable(endpoints, [
      { header: "ID", value: (e) => e.endpointId },
      { header: "NAME", value: (e) => e.endpointName },
      { header: "STATUS", value: (e) => e.status },
      { header: "RUN", value: (e) => e.runId },
      { header: "MODEL", value: (e) => (e.modelName ? `${e.modelName}${e.modelVersion ? `:${e.modelVersion}` : ""}` : "-") },
      { header: "READY SINCE", value: (e) => formatTime(e.readyTime) },
      { header: "URL", value: (e) => e.inferenceUrl },
    ]),
  );
}
