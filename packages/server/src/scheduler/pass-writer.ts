import type { Kysely } from "kysely";
import { type PlacementRow, bumpDeviceVersions, claimPlacements, writeWaitReasons } from "../store/placements.js";
import type { Database } from "../store/schema.js";
import { isPostgres } from "../store/transaction.js";
import type { PassPlacement, QueuePassDecision } from "./queue-pass.js";

/** A decided placement as the store writes it. */
export function placementRowOf(p: Pick<PassPlacement, "nodes" | "firstRank"> & { run: { id: number } }): PlacementRow {
  return {
    runId: p.run.id,
    firstRank: p.firstRank,
    nodes: p.nodes.map((n) => ({
      deviceId: Number(n.deviceId),
      gpuIndices: n.gpuIndices,
      pricePerGpuHourMicros: n.pricePerGpuHour,
    })),
  };
}

/**
 * Writes a pass's decision in chunks while the pass is still deciding the rest: on PostgreSQL
 * the database writes one chunk while this process decides the next, instead of the two
 * taking turns (a pass's writes cost about as much time as its decision). The chunks go out
 * one after another in the pass's transaction; after a failed one no more go out and done()
 * throws its error, so the transaction rolls back whole. SQLite runs in this process: there
 * is nothing to overlap, and one statement over a window costs less than one per chunk, so
 * there it writes only when asked to (`now`).
 */
export class PassWriter {
  private placementsSent = 0;
  private reasonsSent = 0;
  private chain: Promise<void> = Promise.resolve();
  private readonly claimed = new Set<number>();
  private readonly deviceIds: number[] = [];
  private readonly chunked: boolean;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly placedAt: number,
  ) {
    this.chunked = isPostgres(db);
  }

  /**
   * Sends what `decided` holds beyond what was sent (its lists only grow, their entries stay
   * as they were); on SQLite only when `now`.
   */
  send(decided: QueuePassDecision, now = false): void {
    if (!this.chunked && !now) return;
    const placements = decided.placements.slice(this.placementsSent).map(placementRowOf);
    const reasons = decided.reasons
      .slice(this.reasonsSent)
      .map(({ run, reason }) => ({ runId: run.id, status: run.status, reason }));
    this.placementsSent = decided.placements.length;
    this.reasonsSent = decided.reasons.length;
    if (placements.length === 0 && reasons.length === 0) return;
    this.chain = this.chain.then(async () => {
      const { claimed, deviceIds } = await claimPlacements(this.db, placements, this.placedAt);
      for (const id of claimed) this.claimed.add(id);
      for (const id of deviceIds) this.deviceIds.push(id);
      await writeWaitReasons(this.db, reasons);
    });
    // Its failure is thrown by done(); until then it must not count as unhandled.
    this.chain.catch(() => undefined);
  }

  /** Waits for the chunks sent so far (a read after it sees their claims); throws a chunk's error. */
  async flushed(): Promise<void> {
    await this.chain;
  }

  /**
   * Sends the rest, waits for every chunk, then bumps each device once, in id order (bumped
   * per chunk, device rows would be locked out of order: a deadlock with a batch of heartbeats).
   * Answers the ids of the runs claimed.
   */
  async done(decided: QueuePassDecision): Promise<Set<number>> {
    this.send(decided, true);
    await this.chain;
    await bumpDeviceVersions(this.db, this.deviceIds);
    return this.claimed;
  }
}
