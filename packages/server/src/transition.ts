import type { FastifyBaseLogger } from "fastify";
import type { Kysely } from "kysely";
import type { NotifyHub } from "./notify.js";
import type { Database } from "./store/schema.js";
import { inTransaction } from "./store/transaction.js";

/** What a state change needs: the store, the wake-ups it sends, and the log it writes. */
export interface Stateful {
  db: Kysely<Database>;
  hub: NotifyHub;
  log: FastifyBaseLogger;
}

const LOG_LEVELS = new Set<PropertyKey>(["fatal", "error", "warn", "info", "debug", "trace"]);

/** `target` with the listed methods replaced: everything else still reaches the original. */
function overriding<T extends object>(target: T, methods: Partial<Record<PropertyKey, unknown>>): T {
  return new Proxy(target, {
    get(obj, prop) {
      if (Object.hasOwn(methods, prop)) return methods[prop];
      const value = Reflect.get(obj, prop, obj);
      return typeof value === "function" ? value.bind(obj) : value;
    },
  });
}

/**
 * Runs one multi-row change in one database transaction (load, decide, apply), with a context
 * whose `db` is that transaction. Its wake-ups (hub.notify) and event logs wait for the
 * commit: a long-poll woken earlier would read the state from before, and after a rollback
 * nothing happened worth waking anyone for or logging. Inside a transition already, `change`
 * joins it.
 */
export async function transition<C extends Stateful, T>(ctx: C, change: (tctx: C) => Promise<T>): Promise<T> {
  if (ctx.db.isTransaction) return change(ctx);
  const afterCommit: (() => void)[] = [];
  const hub = overriding(ctx.hub, {
    notify: (topic: string) => void afterCommit.push(() => ctx.hub.notify(topic)),
  });
  const deferredLog = Object.fromEntries(
    [...LOG_LEVELS].map((level) => [
      level,
      (...args: unknown[]) =>
        void afterCommit.push(() => (ctx.log[level as "info"] as (...a: unknown[]) => void).apply(ctx.log, args)),
    ]),
  );
  const log = overriding(ctx.log, deferredLog);
  const result = await inTransaction(ctx.db, (trx) => change({ ...ctx, db: trx, hub, log }));
  for (const run of afterCommit) run();
  return result;
}
