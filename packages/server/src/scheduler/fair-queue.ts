/**
 * The order queued runs are tried in. Pure.
 *
 * Higher priority first. Within a priority, users take turns (round-robin), each user's
 * runs oldest first, and users in the order of their oldest run: one user's thousands of
 * queued runs put another user's single run second, not last.
 */
export interface QueuedRunKey {
  id: number;
  owner_id: number;
  priority: number;
  created_at: number;
}

const older = (a: QueuedRunKey, b: QueuedRunKey) => a.created_at - b.created_at || a.id - b.id;

export function fairOrder<T extends QueuedRunKey>(runs: readonly T[]): T[] {
  const priorities = [...new Set(runs.map((r) => r.priority))].sort((a, b) => b - a);
  const order: T[] = [];
  for (const priority of priorities) {
    const byUser = new Map<number, T[]>();
    for (const run of runs.filter((r) => r.priority === priority).sort(older)) {
      const list = byUser.get(run.owner_id) ?? [];
      list.push(run);
      byUser.set(run.owner_id, list);
    }
    // Map keeps insertion order: users by their oldest run at this priority.
    const queues = [...byUser.values()];
    for (let turn = 0; queues.some((q) => q.length > turn); turn++) {
      for (const q of queues) if (q.length > turn) order.push(q[turn]);
    }
  }
  return order;
}
