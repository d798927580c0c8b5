/**
 * Devices' assignment versions read together. Every held assignments poll re-checks its
 * device's version on the hub's shared tick (notify.ts); with 10,000 agents that is 10,000
 * reads a second one by one. Reads asked for in the same turn of the event loop go out as one
 * query per thousand devices instead, their ids as one parameter (store/row-set.ts).
 */
import { type Kysely, sql } from "kysely";
import { rowsOf } from "../store/row-set.js";
import type { Database } from "../store/schema.js";
import { TurnBatchedReads } from "../store/turn-batched-reads.js";

export class DeviceVersionReader {
  private readonly reads: TurnBatchedReads<number>;

  constructor(db: Kysely<Database>) {
    this.reads = new TurnBatchedReads(async (ids) => {
      const { rows } = await sql<{ id: number; version: number }>`
        select id, version from devices where id in (select c0 from ${rowsOf(
          db,
          ["int8"],
          ids.map((id) => [id]),
        )})`.execute(db);
      return new Map(rows.map((r) => [Number(r.id), Number(r.version)]));
    });
  }

  /** The device's version now (undefined when there is no such device). */
  version(deviceId: number): Promise<number | undefined> {
    return this.reads.read(deviceId);
  }
}
