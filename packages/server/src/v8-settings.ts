/**
 * The V8 flags fedml-server sets for its whole process at start, before its first request
 * (the baseline-compiler flag it shares with the agent is core's daemon-tiers.ts).
 */
import { setV8FlagUnlessGiven, v8FlagGiven } from "@fedml/core/daemon-tiers";
import { setFlagsFromString } from "node:v8";

/** The old generation may grow by half of what survived the last full collection. */
export const DEFAULT_HEAP_GROWTH_PERCENT = 50;

/**
 * How much garbage the server's heap may hold; 0 leaves V8's own policy. After each full
 * collection V8 lets the old generation grow by a factor it picks itself, up to four times
 * what survived for a heap that collects fast. Every agent holds a long-poll most of the time,
 * and each poll's objects live through its hold, so they are promoted and die in the old
 * generation: with 10,000 agents that garbage, not the live fleet, set the server's memory
 * (heap in use climbing from 170 to 390 MB between two full collections). A fixed growth
 * bounds the garbage to a share of what is live, so memory grows with the fleet and no
 * faster, at the price of more frequent full collections (each one incremental and mostly
 * concurrent). The server's setting, when given, wins over node's own flag; its default does not.
 */
export function boundHeapGrowth(percent: number | undefined, execArgv = process.execArgv): void {
  const flag = heapGrowthFlag(percent, execArgv);
  if (flag) setFlagsFromString(flag);
}

/**
 * The flag boundHeapGrowth sets, or null: the server's own setting when given (0: none);
 * else the default, unless node's command line gave `--heap-growing-percent` itself.
 */
export function heapGrowthFlag(percent: number | undefined, execArgv: readonly string[]): string | null {
  if (percent === undefined) {
    return v8FlagGiven("--heap-growing-percent", execArgv) ? null : `--heap-growing-percent=${DEFAULT_HEAP_GROWTH_PERCENT}`;
  }
  return percent > 0 ? `--heap-growing-percent=${percent}` : null;
}

/**
 * How much bytecode the optimising compiler (TurboFan) may inline into one function: 300, down
 * from V8's 920. The server's per-request paths are async functions over fastify and kysely;
 * with the default budget each optimisation of one of them inlined its callees into a graph
 * that took 50-140 ms of the compiler thread, about 5 s over a fresh server's first 2,000
 * trivial jobs, on the same two cores as the work. At 300 a fresh server spent 7-9% less CPU
 * per job over its first 1,000 (lower in 12 of 12 paired runs) and the same once warm (jobs
 * 2,001 to 5,000). The agents showed no difference either way and keep V8's default. A budget
 * given on node's command line is left as it is.
 */
export function boundInlining(): void {
  setV8FlagUnlessGiven("--max-inlined-bytecode-size-cumulative", 300);
}
