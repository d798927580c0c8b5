/**
 * Signals to a job's process group. Its own module: the lease watchdog, a process of its own
 * started while the agent has jobs, needs these and nothing of the runner's module graph.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  return killGroup(pgid, signal) === null;
}

export function isGroupAlive(pgid: number): boolean {
  const code = killGroup(pgid, 0);
  return code === null || code === "EPERM";
}

/**
 * process.kill of a group: null when it was sent, else the error's code. Most calls at a job's
 * end find its group gone already, and the error's stack trace cost more than the signal: it
 * is not captured.
 */
function killGroup(pgid: number, signal: NodeJS.Signals | 0): string | null {
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    process.kill(-pgid, signal);
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? "unknown";
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}
