/**
 * Two commands started at once in the same FEDML_HOME must not both spawn a server (or an
 * agent): an exclusive lock file serialises the "is it running? else start it" step.
 */
import { mkdirSync, openSync, closeSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FedmlError, ResultCode } from "@fedml/core";
import { sleep } from "./processes.js";

/** A lock older than this was left by a command that died while starting something. */
const STALE_AFTER_MS = 60_000;
const WAIT_MS = 60_000;

export async function withStartLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lockPath = join(dir, "start.lock");
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(lockPath, "wx");
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (isStale(lockPath)) {
        rmSync(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new FedmlError(ResultCode.ERROR, `another fedml command holds ${lockPath}; remove it if none is running`);
      }
      await sleep(100);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lockPath, { force: true });
  }
}

function isStale(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > STALE_AFTER_MS;
  } catch {
    return false;
  }
}
