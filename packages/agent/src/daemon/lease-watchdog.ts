/**
 * The lease watchdog: `node lease-watchdog.js <home>`, started detached by the agent while it
 * has jobs. It enforces the agent's lease (lease.ts) when the agent itself cannot, paused
 * (SIGSTOP, a debugger) or crashed: once the lease in lease.json is older than leaseMs it sends
 * SIGTERM to the process groups of the runs the agent's journal (run-state.ts) has not seen
 * end, and SIGKILL after killGraceMs. It exits when there is
 * nothing left to guard: no live job, and a live agent holding no run (or no agent). Runs
 * coming and going between two looks (short jobs) keep it: starting it again costs a node
 * process each time. Its own pid is in lease-watchdog.pid.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { isFinalStatus, listRunStates, runStatesMark } from "../runner/run-state.js";
import { isGroupAlive, signalGroup } from "../runner/group-signal.js";
import { isPidAlive } from "@fedml/core/pid";
import { type LeaseFile, leaseFilePath, monotonicNs } from "./lease-file.js";

export function watchdogPidPath(home: string): string {
  return join(home, "lease-watchdog.pid");
}

function readLease(home: string): LeaseFile | null {
  try {
    return JSON.parse(readFileSync(leaseFilePath(home), "utf8")) as LeaseFile;
  } catch {
    return null;
  }
}

/**
 * The agent's runs that have not ended or changed state since the last look (short jobs come
 * and go between two looks), and the process groups of theirs still alive.
 */
function guarded(home: string, lastMark: { value: string }): { runs: number; groups: number[] } {
  const groups: number[] = [];
  let runs = 0;
  try {
    const mark = runStatesMark(home);
    if (mark !== lastMark.value) runs++;
    lastMark.value = mark;
    for (const state of listRunStates(home)) {
      if (isFinalStatus(state.status)) continue;
      runs++;
      if (state.pgid && state.pgid > 1 && isGroupAlive(state.pgid)) groups.push(state.pgid);
    }
  } catch {
    // An unreadable journal: nothing to guard this time.
  }
  return { runs, groups };
}

const IDLE_CHECKS_BEFORE_EXIT = 20;

/**
 * How often the watchdog looks, for a lease of `leaseMs`: a twentieth of it, within 20 ms and
 * 1 s. A job outlives its lease by at most this before its SIGTERM, while the server counts
 * its part lost only a quarter of the lease (and the kill grace) after the lease (config.ts).
 * Each look wakes a node process and reads two files: with the default 90 s lease, looking
 * every 250 ms was about 0.2 ms of CPU per job in the throughput bench.
 */
export function watchdogTickMs(leaseMs: number): number {
  return Math.max(20, Math.min(1000, Math.floor(leaseMs / 20)));
}

/** Nothing to guard now: no job alive, and no live agent holding runs that will start more. */
function isIdle(lease: LeaseFile | null, runs: number, groups: number[]): boolean {
  if (groups.length > 0) return false;
  return lease === null || runs === 0 || !isPidAlive(lease.agentPid);
}

export async function watchLease(home: string): Promise<void> {
  writeFileSync(watchdogPidPath(home), String(process.pid));
  const termSent = new Map<number, bigint>();
  let idle = 0;
  const lastMark = { value: "" };
  try {
    for (;;) {
      const lease = readLease(home);
      const { runs, groups } = lease ? guarded(home, lastMark) : { runs: 0, groups: [] };
      idle = isIdle(lease, runs, groups) ? idle + 1 : 0;
      if (idle >= IDLE_CHECKS_BEFORE_EXIT) return;
      if (lease && groups.length > 0) {
        const now = monotonicNs();
        const sinceMs = Number(now - BigInt(lease.renewedAtNs)) / 1e6;
        if (sinceMs > lease.leaseMs) {
          for (const pgid of groups) {
            const sent = termSent.get(pgid);
            if (sent === undefined) {
              signalGroup(pgid, "SIGTERM");
              termSent.set(pgid, now);
            } else if (Number(now - sent) / 1e6 >= lease.killGraceMs) {
              signalGroup(pgid, "SIGKILL");
            }
          }
        } else {
          termSent.clear();
        }
      }
      const tickMs = lease ? watchdogTickMs(lease.leaseMs) : 250;
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
  } finally {
    try {
      if (readFileSync(watchdogPidPath(home), "utf8").trim() === String(process.pid))
        rmSync(watchdogPidPath(home), { force: true });
    } catch {}
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const home = process.argv[2];
  if (!home) {
    process.stderr.write("usage: lease-watchdog <agent home>\n");
    process.exit(2);
  }
  process.title = "fedml-lease-watchdog";
  void watchLease(home).then(() => process.exit(0));
}
