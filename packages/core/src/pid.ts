/**
 * Whether a process id names a live process. Its own module (with no imports) so that small
 * processes, such as the agent's lease watchdog, load nothing else for it.
 */
export function isPidAlive(pid: number | null | undefined): pid is number {
  if (!pid || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    // Signal 0 checks existence and permission without delivering anything.
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user; still alive.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
