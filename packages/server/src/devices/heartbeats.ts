/**
 * Devices' heartbeats written in batches. Every held assignments poll is heard twice (when it
 * arrives and when it is answered); written one by one that is four UPDATEs per poll, which
 * with 10,000 agents is most of the server's writes. Heard devices are collected here and
 * written together a moment later (one transaction of a few statements for any number).
 *
 * What is stored stays what the liveness rules read (liveness.ts): `last_seen_at` is the wall
 * time the server last heard each device at, as it would be written one by one, and the
 * offline sweep calls `flush()` before it judges, so a device is never declared silent while
 * a heartbeat of it waits here.
 */
import { DeviceStatus } from "@fedml/core";
import { type Kysely, sql } from "kysely";
import { rowsOf } from "../store/row-set.js";
import type { Database } from "../store/schema.js";
import { inTransaction } from "../store/transaction.js";

/** Ids per statement: well under SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 1000;

export interface HeartbeatsDeps {
  db: Kysely<Database>;
  /** How long a heard device may wait before its batch is written. */
  flushMs: number;
  /** Devices that were OFFLINE and are back (the batch is committed by then). */
  onRevived: (deviceIds: number[]) => void;
  onError: (error: unknown) => void;
}

export class Heartbeats {
  /** Device id -> latest wall time heard since the last write. */
  private pending = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: HeartbeatsDeps) {}

  /** The device was heard at `at` (wall ms); written within flushMs. */
  heard(deviceId: number, at: number): void {
    this.pending.set(deviceId, Math.max(at, this.pending.get(deviceId) ?? at));
    this.schedule();
  }

  /** Writes every heartbeat heard so far; resolves once they (and any write in progress) are stored. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.pending;
    this.pending = new Map();
    const previous = this.writing;
    const write = (async () => {
      await previous.catch(() => {});
      if (batch.size > 0) await this.write(batch);
    })();
    this.writing = write.catch(() => {});
    return write;
  }

  private async write(batch: Map<number, number>): Promise<void> {
    const ids = [...batch.keys()];
    let revived: number[];
    try {
      revived = await inTransaction(this.deps.db, async (trx) => {
        const back: number[] = [];
        for (let i = 0; i < ids.length; i += CHUNK) {
          // Each device with its own time heard, as one parameter (store/row-set.ts): a
          // statement of one `case` branch per device cost SQLite more to prepare and run
          // than the writes themselves.
          const heard = rowsOf(
            trx,
            ["int8", "int8"],
            ids.slice(i, i + CHUNK).map((id) => [id, batch.get(id)]),
          );
          const { rows } = await sql<{ id: number }>`
            update devices set last_seen_at = v.c1, status = ${DeviceStatus.IDLE} from ${heard}
            where devices.id = v.c0 and devices.status = ${DeviceStatus.OFFLINE}
            returning devices.id`.execute(trx);
          back.push(...rows.map((r) => Number(r.id)));
          await sql`update devices set last_seen_at = v.c1 from ${heard} where devices.id = v.c0`.execute(trx);
        }
        return back;
      });
    } catch (error) {
      // Not stored: heard again later than this, or kept for the next write.
      for (const [id, time] of batch) this.pending.set(id, Math.max(time, this.pending.get(id) ?? time));
      this.schedule();
      throw error;
    }
    if (revived.length > 0) this.deps.onRevived(revived);
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.flush().catch(this.deps.onError);
    }, this.deps.flushMs);
  }

  /** Writes what is pending and stops the timer (server shutdown). */
  async close(): Promise<void> {
    await this.flush().catch(this.deps.onError);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
