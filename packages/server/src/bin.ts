#!/usr/bin/env node
import { parseArgs } from "node:util";
import { buildServer } from "./app.js";
import { defaultHome } from "./config.js";
import { readServerRecord, writeServerRecord } from "./server-record.js";

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name} must be a whole number, not ${value}\n`);
    process.exit(2);
  }
  return n;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

function logLevelOption(value: string | undefined): string | undefined {
  if (value === undefined || LOG_LEVELS.includes(value)) return value;
  process.stderr.write(`--log-level must be one of ${LOG_LEVELS.join(", ")}, not ${value}\n`);
  process.exit(2);
}

function megabytesOption(name: string, value: string | undefined): number | undefined {
  const mb = intOption(name, value);
  return mb === undefined ? undefined : mb * 1024 * 1024;
}

async function main(): Promise<void> {
  // Whoever reads our log may go away; a closed pipe must not take the control plane down.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
    });
  }
  const { values } = parseArgs({
    options: {
      home: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      "database-url": { type: "string" },
      "public-url": { type: "string" },
      "offline-after-ms": { type: "string" },
      "lease-ms": { type: "string" },
      "stop-ack-deadline-ms": { type: "string" },
      "stop-grace-ms": { type: "string" },
      "poll-max-wait-ms": { type: "string" },
      "max-workspace-bytes": { type: "string" },
      "workspace-store-mb": { type: "string" },
      "user-workspace-mb": { type: "string" },
      "run-log-mb": { type: "string" },
      "user-log-mb": { type: "string" },
      "log-retention-days": { type: "string" },
      "log-level": { type: "string" },
    },
    strict: true,
  });
  const home = values.home ?? defaultHome();
  const explicitPort = intOption("port", values.port);
  // A restarted embedded server keeps its port so agents find it at the same URL.
  const recordedPort = explicitPort === undefined ? readServerRecord(home)?.port : undefined;
  const start = (port: number | undefined) =>
    buildServer({
      home,
      host: values.host,
      port,
      databaseUrl: values["database-url"] ?? process.env.FEDML_DATABASE_URL,
      publicUrl: values["public-url"],
      offlineAfterMs: intOption("offline-after-ms", values["offline-after-ms"]),
      leaseMs: intOption("lease-ms", values["lease-ms"]),
      stopAckDeadlineMs: intOption("stop-ack-deadline-ms", values["stop-ack-deadline-ms"]),
      stopGraceMs: intOption("stop-grace-ms", values["stop-grace-ms"]),
      pollMaxWaitMs: intOption("poll-max-wait-ms", values["poll-max-wait-ms"]),
      maxWorkspaceBytes: intOption("max-workspace-bytes", values["max-workspace-bytes"]),
      workspaceStoreBytes: megabytesOption("workspace-store-mb", values["workspace-store-mb"]),
      userWorkspaceBytes: megabytesOption("user-workspace-mb", values["user-workspace-mb"]),
      runLogBytes: megabytesOption("run-log-mb", values["run-log-mb"]),
      userLogBytes: megabytesOption("user-log-mb", values["user-log-mb"]),
      logRetentionDays: intOption("log-retention-days", values["log-retention-days"]),
      logLevel: logLevelOption(values["log-level"]),
    });
  const server = await start(explicitPort ?? recordedPort).catch((err: NodeJS.ErrnoException) => {
    // Only a port we chose ourselves may change; an explicit --port must fail loudly.
    if (err.code === "EADDRINUSE" && recordedPort !== undefined) return start(undefined);
    throw err;
  });
  const startedAt = Date.now();
  writeServerRecord(home, { url: server.url, port: server.port, pid: process.pid, startedAt });
  server.app.log.info({ url: server.url, publicUrl: server.publicUrl, home }, "FedML control plane listening");
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
  process.exit(1);
});
