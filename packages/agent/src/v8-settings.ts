/**
 * The V8 flags fedml-agent sets for its whole process at start, before its first job (the
 * baseline-compiler flag it shares with the server is core's daemon-tiers.ts).
 */
import { setV8FlagUnlessGiven } from "@fedml/core/daemon-tiers";

/**
 * How much bytecode a function runs before V8 considers optimising it (TurboFan): four times
 * V8's 67,584. An agent's job path passes through many functions that are only lukewarm: each
 * agent starts a share of the fleet's jobs, and each job calls them a few times. At V8's budget
 * they were optimised all the same, on the compiler thread, which on a small machine shares the
 * cores with the jobs. In paired runs of a fresh cluster (8 agents, trivial jobs; the agents'
 * CPU divided by the jobs' own, against the machine's drift) the agents spent 5-10% less CPU
 * per job over the first 1,000 and 5-16% less over the next 4,000 (lower in 26 of 27 paired
 * comparisons). The server, which runs every request, spent 10-14% less over its first 1,000
 * jobs but up to 21% more after them, so it keeps V8's budget. A budget given on node's
 * command line is left as it is.
 */
export function delayOptimisation(): void {
  setV8FlagUnlessGiven("--interrupt-budget", 4 * 67_584);
}
