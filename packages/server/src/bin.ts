#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { compileForLongRun } from "@fedml/core/daemon-tiers";
import { buildServer } from "./app.js";
import { boundHeapGrowth, boundInlining } from "./v8-settings.js";
import { type ServerCommand, ServerCliError, parseServerCommand } from "./server-cli.js";
import { readServerRecord, writeServerRecord } from "./server-record.js";
import { SERVER_VERSION } from "./version.js";
import { S3StoreError } from "./workspaces/s3-settings.js";

function readCommand(): ServerCommand {
  try {
    const reader = (what: string) => (path: string) => {
      try {
        return readFileSync(path, "utf8");
      } catch (err) {
        throw new ServerCliError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    };
    return parseServerCommand(process.argv.slice(2), process.env, reader("config file"), reader("secret file"));
  } catch (err) {
    if (!(err instanceof ServerCliError)) throw err;
    process.stderr.write(`fedml-server: ${err.message}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  // Whoever reads our log may go away; a closed pipe must not take the control plane down.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
    });
  }
  const command = readCommand();
  if (command.kind === "help") {
    process.stdout.write(command.text);
    return;
  }
  if (command.kind === "version") {
    process.stdout.write(`fedml-server ${SERVER_VERSION}\n`);
    return;
  }
  compileForLongRun();
  boundInlining();
  const { options, portMode } = command;
  boundHeapGrowth(options.heapGrowthPercent);
  const home = options.home;
  // `--port auto` (the embedded default): a restarted server keeps its port so agents find it at the same URL.
  const recordedPort = portMode === "auto" ? readServerRecord(home)?.port : undefined;
  const start = (port: number | undefined) => buildServer({ ...options, port });
  const server = await start(portMode === "auto" ? recordedPort : options.port).catch((err: NodeJS.ErrnoException) => {
    // Only a port we chose ourselves may change; an explicit port must fail loudly.
    if (err.code === "EADDRINUSE" && recordedPort !== undefined) return start(undefined);
    throw err;
  });
  const startedAt = Date.now();
  writeServerRecord(home, { url: server.url, port: server.port, pid: process.pid, startedAt });
  server.app.log.info(
    { url: server.url, publicUrl: server.publicUrl, home, configFile: command.configFile },
    "FedML control plane listening",
  );
  if (server.adminKeyFile) server.app.log.info({ file: server.adminKeyFile }, "admin API key written");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, "shutting down");
    try {
      await server.close();
    } finally {
      writeServerRecord(home, { url: server.url, port: server.port, pid: null, startedAt });
      process.exit(0);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`fedml-server: ${err instanceof Error ? err.message : String(err)}\n`);
  // A store that refuses the configured credentials or bucket is a wrong setting, like a bad flag.
  process.exit(err instanceof ServerCliError || err instanceof S3StoreError ? 2 : 1);
});
