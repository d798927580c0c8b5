/** Small process helpers for the detached local server and agent. */
import { readFileSync } from "node:fs";
import { isPidAlive } from "@fedml/core/pid";

export { isPidAlive };

export function readPidFile(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it answers a value other than undefined/false, or the time is up (answers undefined). */
export async function pollUntil<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; answers once the process is gone. */
export async function terminate(pid: number, graceMs: number): Promise<void> {
  if (!isPidAlive(pid)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const gone = await pollUntil(() => !isPidAlive(pid), graceMs, 50);
  if (gone) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  await pollUntil(() => !isPidAlive(pid), 5_000, 50);
}
