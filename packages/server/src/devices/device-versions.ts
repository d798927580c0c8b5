/**
 * Devices' assignment versions read together. Every held assignments poll re-checks its
 * device's version on the hub's shared tick (notify.ts); with 10,000 agents that is 10,000
 * reads a second one by one. Reads asked for in the same turn of the event loop go out as one
 * query per thousand devices instead (store/turn-batched-reads.ts).
 */
import type { Kysely } from "kysely";
import { deviceVersionsOf } from "../store/devices.js";
import type { Database } from "../store/schema.js";
import { TurnBatchedReads } from "../store/turn-batched-reads.js";

export class DeviceVersionReader {
  private readonly reads: TurnBatchedReads<number>;

  constructor(db: Kysely<Database>) {
    this.reads = new TurnBatchedReads((ids) => deviceVersionsOf(db, ids));
  }

  /** The device's version now (undefined when there is no such device). */
  version(deviceId: number): Promise<number | undefined> {
    return this.reads.read(deviceId);
  }
}
