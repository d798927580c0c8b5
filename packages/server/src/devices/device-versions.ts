/**
 * Devices' assignment versions read together. Every held assignments poll re-checks its
 * device's version on the hub's shared tick (notify.ts); with 10,000 agents that is 10,000
 * reads a second one by one. Reads asked for in the same turn of the event loop go out as one
 * query per thousand devices instead.
 */
import type { Kysely } from "kysely";
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
        const rows = await this.db.selectFrom("devices").select(["id", "version"]).where("id", "in", chunk).execute();
        const found = new Map(rows.map((r) => [r.id, r.version]));
        for (const id of chunk) for (const w of asked.get(id) ?? []) w.resolve(found.get(id));
      } catch (error) {
        for (const id of chunk) for (const w of asked.get(id) ?? []) w.reject(error);
      }
    }
  }
}
