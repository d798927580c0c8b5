/**
 * The order queued runs are tried in. Pure.
 *
 * Higher priority first. Within a priority, users take turns (round-robin), each user's
 * runs oldest first; the user served least recently (`lastServed`: when a run of theirs was
 * last placed, 0 for never) goes first, then the one with the oldest run. One user's
 * thousands of queued runs thus put another user's single run at most one turn back.
 */
export interface QueuedRunKey {
  id: number;
  owner_id: number;
  priority: number;
  created_at: number;
}

const older = (a: QueuedRunKey, b: QueuedRunKey) => a.created_at - b.created_at || a.id - b.id;

export function fairOrder<T extends QueuedRunKey>(runs: readonly T[], lastServed: ReadonlyMap<number, number> = new Map()): T[] {
  const priorities = [...new Set(runs.map((r) => r.priority))].sort((a, b) => b - a);
  const order: T[] = [];
  for (const priority of priorities) {
    const byUser = new Map<number, T[]>();
    for (const run of runs.filter((r) => r.priority === priority).sort(older)) {
      const list = byUser.get(run.owner_id) ?? [];
      list.push(run);
      byUser.set(run.owner_id, list);
    }
    // Map keeps insertion order (users by their oldest run); the sort is stable.
    const served = (q: T[]) => lastServed.get(q[0].owner_id) ?? 0;
    const queues = [...byUser.values()].sort((a, b) => served(a) - served(b));
    for (let turn = 0; queues.some((q) => q.length > turn); turn++) {
      for (const q of queues) if (q.length > turn) order.push(q[turn]);
    }
  }
  return order;
}
