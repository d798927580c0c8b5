/**
 * Devices' assignment versions read together. Every held assignments poll re-checks its
 * device's version on the hub's shared tick (notify.ts); with 10,000 agents that is 10,000
 * reads a second one by one. Reads asked for in the same turn of the event loop go out as one
 * query per thousand devices instead, their ids as one parameter (store/row-set.ts).
 */
import { type Kysely, sql } from "kysely";
import { rowsOf } from "../store/row-set.js";
import type { Database } from "../store/schema.js";

const CHUNK = 1000;

type Waiter = { resolve: (version: number | undefined) => void; reject: (error: unknown) => void };

export class DeviceVersionReader {
  private asked = new Map<number, Waiter[]>();
  private scheduled = false;

  constructor(private readonly db: Kysely<Database>) {}

  /** The device's version now (undefined when there is no such device). */
  version(deviceId: number): Promise<number | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.asked.get(deviceId);
      if (waiters) waiters.push({ resolve, reject });
      else this.asked.set(deviceId, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.read());
      }
    });
  }

  private async read(): Promise<void> {
    const asked = this.asked;
    this.asked = new Map();
    this.scheduled = false;
    const ids = [...asked.keys()];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      try {
        const ids = rowsOf(
          this.db,
          ["int8"],
          chunk.map((id) => [id]),
        );
        const { rows } = await sql<{ id: number; version: number }>`
          select id, version from devices where id in (select c0 from ${ids})`.execute(this.db);
        const found = new Map(rows.map((r) => [Number(r.id), Number(r.version)]));
        for (const id of chunk) for (const w of asked.get(id) ?? []) w.resolve(found.get(id));
      } catch (error) {
        for (const id of chunk) for (const w of asked.get(id) ?? []) w.reject(error);
      }
    }
  }
}
