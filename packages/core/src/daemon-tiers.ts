/**
 * How a long-running daemon (the server, the agent) has V8 compile its code. By default a
 * function is interpreted until it has run often enough for the baseline compiler (Sparkplug)
 * to take it over, so a fresh daemon's request and job paths run interpreted through their
 * first hundreds of calls: a fresh cluster's first thousand trivial jobs cost the agents
 * about 0.6 ms of CPU each more than with baseline code from the first call. A daemon runs
 * those paths for days: compiling each function to baseline code on its first call (a fast,
 * non-optimising compile) costs the agent about a megabyte of memory and no measurable start-up time.
 */
import { setFlagsFromString } from "node:v8";

/** Before the daemon's first request or job: functions compiled from then on skip the interpreter. */
export function compileForLongRun(): void {
  setFlagsFromString("--always-sparkplug");
}

/**
 * How much bytecode the optimising compiler (TurboFan) may inline into one function, down from
 * V8's 920. The server's per-request paths are async functions over fastify and kysely; with
 * the default budget each optimisation of one of them inlined its callees into a graph that
 * took 50-140 ms of the compiler thread, about 5 s over a fresh server's first 2,000 trivial
 * jobs, on the same two cores as the work. At 300 a fresh server spent 7-9% less CPU per job
 * over its first 1,000 (lower in 12 of 12 paired runs) and the same once warm (jobs 2,001 to
 * 5,000). The agents showed no difference either way and keep V8's default. A budget given on
 * node's command line is left as it is.
 */
export const SERVER_INLINE_BUDGET = 300;
const INLINE_FLAG = "--max-inlined-bytecode-size-cumulative";

export function boundInlining(bytecodeSize = SERVER_INLINE_BUDGET): void {
  if (process.execArgv.some((arg) => arg.startsWith(INLINE_FLAG))) return;
  setFlagsFromString(`${INLINE_FLAG}=${bytecodeSize}`);
}
