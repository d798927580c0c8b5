/** Process checks for tests: zombies (dead, not yet reaped by PID 1) count as gone. */
import { readFileSync, readdirSync } from "node:fs";

function stat(pid: number): { state: string; pgrp: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0], pgrp: Number(fields[2]) };
  } catch {
    return null;
  }
}

export function isProcessLive(pid: number): boolean {
  const s = stat(pid);
  if (s) return s.state !== "Z";
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function liveGroupMembers(pgid: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      const s = stat(pid);
      return s !== null && s.pgrp === pgid && s.state !== "Z";
    });
}

/** Polls until check() is true or timeoutMs passes; answers the last check. */
export async function eventually(check: () => boolean, timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
