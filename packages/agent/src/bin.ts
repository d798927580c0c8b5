#!/usr/bin/env node
/** fedml-agent bind | run | unbind (node's parseArgs: no CLI framework in the agent). */
import { parseArgs } from "node:util";
import { FedmlError, ResultCode } from "@fedml/core/contract";
import { defaultAgentHome } from "./config.js";
import { runAgent } from "./daemon.js";
import { registerDevice, unregisterDevice } from "./register.js";

const USAGE = `usage:
  fedml-agent bind --server URL[,URL...] --api-key KEY [--home DIR] [--name N] [--provider P] [--region R]
                   [--price USD] [--shared] [--simulate-gpus TYPE:COUNT[:MEM_GB]] [--max-jobs N] [--address A]
  fedml-agent run [--home DIR]      run the daemon in the foreground
  fedml-agent unbind [--home DIR]`;

function fail(message: string): never {
  throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, message);
}

function numberFlag(name: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    fail(`--${name} must be a ${integer ? "whole " : ""}number >= 0, got "${value}"`);
  }
  return n;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      home: { type: "string" },
      server: { type: "string" },
      "api-key": { type: "string" },
      name: { type: "string" },
      provider: { type: "string" },
      region: { type: "string" },
      price: { type: "string" },
      shared: { type: "boolean" },
      "simulate-gpus": { type: "string" },
      "max-jobs": { type: "string" },
      address: { type: "string" },
    },
  });
  const home = values.home ?? defaultAgentHome();
  switch (command) {
    case "bind": {
      if (!values.server) fail("bind needs --server URL");
      if (!values["api-key"]) fail("bind needs --api-key KEY");
      const { deviceId } = await registerDevice({
        home,
        serverUrl: values.server,
        apiKey: values["api-key"],
        name: values.name,
        provider: values.provider,
        region: values.region,
        pricePerGpuHour: numberFlag("price", values.price, false),
        shared: values.shared,
        simulateGpus: values["simulate-gpus"],
        maxJobs: numberFlag("max-jobs", values["max-jobs"], true),
        address: values.address,
      });
      process.stdout.write(
        `device ${deviceId} bound to ${values.server} (home ${home}); start it with: fedml-agent run --home ${home}\n`,
      );
      return 0;
    }
    case "run": {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      await runAgent({ home, signal: controller.signal });
      return 0;
    }
    case "unbind": {
      const result = await unregisterDevice(home);
      if (!result.unbound) fail(`no device is bound in ${home}`);
      const note = result.serverError ? ` (the server was not told: ${result.serverError})` : "";
      process.stdout.write(`device ${result.deviceId} unbound${note}\n`);
      return 0;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return command === undefined || command === "help" || command === "--help" ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`error: ${error.message.split("\n")[0]}\n`);
    process.exit(1);
  },
);
