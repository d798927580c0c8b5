/**
 * Which replica runs the tick's sweeps over shared state (devices gone offline, overdue stops,
 * cluster holds, credit run out, idle clusters). Each sweep reads every live part or device:
 * run by every replica each tick, they cost the database a replica count's worth of that,
 * for nothing, while the replicas' queue passes wait on the same database.
 *
 * PostgreSQL: the replica holding a session advisory lock on a connection of its own sweeps.
 * It keeps the lock while the connection lives; when the replica dies (or the connection
 * drops) PostgreSQL lets go of it and the next replica to ask takes it over. SQLite: one
 * process, always the one.
 */
import pg from "pg";

export interface SweepLeader {
  /** Whether this replica runs the sweeps now (asks for the lock when it does not hold it). */
  leads(): Promise<boolean>;
  close(): Promise<void>;
}

/** Any constant other than the placement lock's (store/transaction.ts). */
const SWEEP_LOCK_KEY = 7_202_612;

export const soleSweepLeader: SweepLeader = { leads: async () => true, close: async () => undefined };

export function postgresSweepLeader(url: string, onError: (message: string, err: unknown) => void): SweepLeader {
  let client: pg.Client | null = null;
  let held = false;
  let closed = false;
  const drop = (lost: pg.Client) => {
    if (client !== lost) return;
    client = null;
    held = false;
    void lost.end().catch(() => undefined);
  };
  return {
    async leads() {
      if (closed) return false;
      if (held) return true;
      try {
        if (!client) {
          const next = new pg.Client({ connectionString: url });
          next.on("error", (err) => {
            if (held) onError("sweep lock connection lost", err);
            drop(next);
          });
          next.on("end", () => drop(next));
          client = next;
          await next.connect();
        }
        const { rows } = await client.query<{ locked: boolean }>("select pg_try_advisory_lock($1) as locked", [SWEEP_LOCK_KEY]);
        held = rows[0]?.locked === true && client !== null;
        return held;
      } catch (err) {
        onError("asking for the sweep lock failed", err);
        if (client) drop(client);
        return false;
      }
    },
    async close() {
      closed = true;
      held = false;
      const last = client;
      client = null;
      await last?.end().catch(() => undefined);
    },
  };
}
