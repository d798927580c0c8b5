import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serverDir } from "./config.js";

/** `<home>/server/server.json`: where the embedded server listens, for agents and the CLI. */
export interface ServerRecord {
  url: string;
  port: number;
  /** Null once the server has stopped. */
  pid: number | null;
  startedAt: number;
}

export function serverRecordPath(home: string): string {
  return join(serverDir(home), "server.json");
}

export function readServerRecord(home: string): ServerRecord | null {
  const file = serverRecordPath(home);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ServerRecord;
  } catch {
    return null;
  }
}

export function writeServerRecord(home: string, record: ServerRecord): void {
  const file = serverRecordPath(home);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}
