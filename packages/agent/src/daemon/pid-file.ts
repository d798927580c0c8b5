/** `<home>/agent.pid`: one agent per home, so two daemons never run the same device's jobs. */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FedmlError, ResultCode } from "@fedml/core/contract";
import { isPidAlive } from "@fedml/core/pid";

export { isPidAlive };

export function pidFilePath(home: string): string {
  return join(home, "agent.pid");
}

export function readPid(home: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(pidFilePath(home), "utf8").trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Takes the home for this process; a stale file (its process gone) is replaced. */
export function acquirePidFile(home: string, pid = process.pid): void {
  mkdirSync(home, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(pidFilePath(home), `${pid}\n`, { flag: "wx" });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = readPid(home);
      if (holder !== null && holder !== pid && isPidAlive(holder)) {
        throw new FedmlError(ResultCode.ERROR, `agent already running (pid ${holder})`);
      }
      rmSync(pidFilePath(home), { force: true });
    }
  }
  throw new FedmlError(ResultCode.ERROR, `cannot take ${pidFilePath(home)}: another agent is starting`);
}

/** Removes the file only while it still names this process. */
export function releasePidFile(home: string, pid = process.pid): void {
  if (readPid(home) === pid) rmSync(pidFilePath(home), { force: true });
}
