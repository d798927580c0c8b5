/**
 * What the agent and its lease watchdog share: lease.json's place and shape, and the clock its
 * times are on. Its own module: the watchdog, a process of its own started while the agent
 * has jobs, needs these and nothing of the agent's.
 */
import { join } from "node:path";

export interface LeaseTerms {
  leaseMs: number;
  killGraceMs: number;
}

/** What lease.json holds; times are process.hrtime (CLOCK_MONOTONIC, shared by every process of the machine). */
export interface LeaseFile extends LeaseTerms {
  agentPid: number;
  renewedAtNs: string;
}

export const monotonicNs = (): bigint => process.hrtime.bigint();

export function leaseFilePath(home: string): string {
  return join(home, "lease.json");
}
