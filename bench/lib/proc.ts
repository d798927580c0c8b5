import { readFileSync } from "node:fs";

/** Resident set size of a live process in MB, from /proc (Linux). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** CPU seconds a live process used: its own (user + system) and its waited-for children's (Linux). */
export function cpuSeconds(pid: number): { self: number; children: number } {
  // Fields after the command name, which sits in parentheses and may hold spaces.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = (i: number) => Number(fields[i - 3]);
  const hz = 100;
  return { self: (ticks(14) + ticks(15)) / hz, children: (ticks(16) + ticks(17)) / hz };
}

/**
 * cpuSeconds of a process and its live descendants (an agent's lease watchdog): a helper that
 * outlives the measurement never hands its own or its reaped children's time to its parent.
 */
export function cpuSecondsWithHelpers(pid: number): { self: number; children: number } {
  const total = cpuSeconds(pid);
  let kids: string[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(" ").filter(Boolean);
  } catch {
    // gone, or a kernel without the children file
  }
  for (const kid of kids) {
    try {
      const part = cpuSecondsWithHelpers(Number(kid));
      total.self += part.self;
      total.children += part.children;
    } catch {
      // ended meanwhile: its time is in total.children already
    }
  }
  return total;
}
