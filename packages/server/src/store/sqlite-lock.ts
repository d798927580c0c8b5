/**
 * SQLite is the one-process embedded default: placement and wake-ups of one server process
 * are not visible to a second one on the same file. A lock file next to the database names
 * the process holding it, and a second server process refuses to start with one line saying
 * so. A lock left by a process that died (a crash, SIGKILL) is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { FedmlError, ResultCode } from "@fedml/core";

export interface SqliteLock {
  release(): void;
}

/** Whether `pid` is a live process that could be a server (a node process, where /proc says). */
function holderAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    // A pid reused after a reboot by something else is not a server holding the file.
    return /node/i.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
  } catch {
    return true;
  }
}

function readHolder(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8").trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export function lockSqlite(databaseFile: string): SqliteLock {
  const file = `${databaseFile}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw err;
      const holder = readHolder(file);
      if (holder !== null && holderAlive(holder)) {
        throw new FedmlError(
          ResultCode.ERROR,
          `the SQLite database ${databaseFile} is in use by server process ${holder}: SQLite serves one server process; stop that one, or run several on PostgreSQL (--database-url)`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  return {
    release() {
      if (readHolder(file) === process.pid) rmSync(file, { force: true });
    },
  };
}
