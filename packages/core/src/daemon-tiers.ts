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

/** A flag's name as V8 reads it: `-` and `_` are the same character in its flag names. */
function flagName(arg: string): string {
  return arg.split("=", 1)[0].replaceAll("_", "-");
}

/** Whether node's command line gave this V8 flag (`--a-b` or `--a_b`, with or without a value). */
export function v8FlagGiven(flag: string, execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.some((arg) => flagName(arg) === flag);
}

/**
 * Sets a V8 flag for the rest of the process unless node's command line gave it: whoever
 * starts a daemon with their own value (to measure, or to tune a machine) keeps it. Answers
 * whether it set the flag.
 */
export function setV8FlagUnlessGiven(flag: string, value: string | number, execArgv = process.execArgv): boolean {
  if (v8FlagGiven(flag, execArgv)) return false;
  setFlagsFromString(`${flag}=${value}`);
  return true;
}
