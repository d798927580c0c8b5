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
    .description("one endpoint: status, where to send requests, and its replicas with their request counts")
    .argument("<ENDPOINT_ID>", "the endpoint's id (the launch's innerId)")
    .option("--json", "print the SDK's EndpointModel as JSON")
    .action(
      action(async (endpointId: string, flags: { json?: boolean }) => {
        const result = await api.endpointStatus(endpointId);
        if (flags.json) return printJson(result);
        printEndpoints([result]);
        printReplicas(result);
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

function printReplicas(endpoint: EndpointModel): void {
  const target =
    endpoint.minReplicas === endpoint.maxReplicas
      ? `${endpoint.desiredReplicas}`
      : `${endpoint.desiredReplicas} (${endpoint.minReplicas}..${endpoint.maxReplicas})`;
  printLine(
    `\nreplicas: ${target}; generation ${endpoint.generation}; requests ${endpoint.requestCount}, errors ${endpoint.errorCount}, in flight ${endpoint.inflightRequests}`,
  );
  if (endpoint.replicas.length === 0) return;
  printLine(
    formatTable(endpoint.replicas, [
      { header: "RUN", value: (r) => r.runId },
      { header: "DEVICE", value: (r) => r.deviceId ?? "-" },
      { header: "STATUS", value: (r) => r.status },
      { header: "GEN", value: (r) => String(r.generation) },
      { header: "REQUESTS", value: (r) => String(r.requestCount) },
      { header: "ERRORS", value: (r) => String(r.errorCount) },
      { header: "IN FLIGHT", value: (r) => String(r.inflightRequests) },
      { header: "READY SINCE", value: (r) => formatTime(r.readyTime) },
    ]),
  );
}
