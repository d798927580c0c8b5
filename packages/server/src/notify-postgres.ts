/**
 * PostgreSQL LISTEN/NOTIFY as the NotifyHub's transport, so that a change made through one
 * replica wakes the long-polls, log followers and scheduler of the others at once. One
 * dedicated connection per process listens (a pooled one would drop its LISTEN when returned)
 * and also sends. Notifications raised in one turn of the event loop go out together in one
 * NOTIFY. When the connection is lost it reconnects with backoff and then wakes every local
 * waiter, since notifications sent meanwhile are lost; the waiters' own periodic re-checks
 * cover the gap.
 */
import { randomBytes } from "node:crypto";
import { backoffDelay } from "@fedml/core/contract";
import pg from "pg";
import type { WakeTransport } from "./notify.js";

const CHANNEL = "fedml_wake";
/** NOTIFY payloads must stay under 8000 bytes. */
const MAX_PAYLOAD_BYTES = 7000;
const RECONNECT_BACKOFF = { initialMs: 250, maxMs: 5_000 };

export interface PostgresWakeOptions {
  url: string;
  /** A topic another process notified. */
  onTopic(topic: string): void;
  /** Notifications may have been missed (the connection was lost and is back). */
  onGap(): void;
  onError(message: string, err: Error): void;
}

/** Packs topics into as few payloads as fit, each prefixed by the sending process's id. */
export function packPayloads(sender: string, topics: Iterable<string>): string[] {
  const payloads: string[] = [];
  let current: string[] = [];
  let size = sender.length + 1;
  for (const topic of topics) {
    if (current.length > 0 && size + topic.length + 1 > MAX_PAYLOAD_BYTES) {
      payloads.push(`${sender} ${current.join(",")}`);
      current = [];
      size = sender.length + 1;
    }
    current.push(topic);
    size += topic.length + 1;
  }
  if (current.length > 0) payloads.push(`${sender} ${current.join(",")}`);
  return payloads;
}

/** The sender and topics of a payload made by packPayloads. */
export function unpackPayload(payload: string): { sender: string; topics: string[] } {
  const space = payload.indexOf(" ");
  if (space < 0) return { sender: payload, topics: [] };
  return { sender: payload.slice(0, space), topics: payload.slice(space + 1).split(",") };
}

/** Connects and listens before answering, so that no notification after start-up is missed. */
export async function startPostgresWake(options: PostgresWakeOptions): Promise<WakeTransport> {
  const self = randomBytes(6).toString("hex");
  let client: pg.Client | null = null;
  let closed = false;
  let failures = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  const pending = new Set<string>();
  let flushScheduled = false;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: options.url });
    const lost = (err?: Error) => {
      if (client !== next) return;
      client = null;
      next.removeAllListeners("notification");
      void next.end().catch(() => undefined);
      if (err) options.onError("LISTEN connection lost", err);
      scheduleReconnect();
    };
    next.on("error", (err) => lost(err));
    next.on("end", () => lost());
    next.on("notification", (message) => {
      if (message.channel !== CHANNEL || !message.payload) return;
      const { sender, topics } = unpackPayload(message.payload);
      if (sender === self) return;
      for (const topic of topics) options.onTopic(topic);
    });
    await next.connect();
    await next.query(`LISTEN ${CHANNEL}`);
    if (closed) {
      await next.end();
      return;
    }
    client = next;
  };

  const scheduleReconnect = () => {
    if (closed || reconnectTimer) return;
    reconnectTimer = setTimeout(
      async () => {
        reconnectTimer = undefined;
        try {
          await connect();
          failures = 0;
          options.onGap();
        } catch (err) {
          failures++;
          if (failures === 1) options.onError("LISTEN reconnect failed, retrying", err as Error);
          scheduleReconnect();
        }
      },
      backoffDelay(failures, RECONNECT_BACKOFF),
    );
    reconnectTimer.unref();
  };

  const flush = () => {
    flushScheduled = false;
    const target = client;
    const topics = [...pending];
    pending.clear();
    // Without a connection the topics are dropped: the waiters' re-check timers catch up.
    if (!target || topics.length === 0) return;
    for (const payload of packPayloads(self, topics)) {
      target.query("SELECT pg_notify($1, $2)", [CHANNEL, payload]).catch((err: Error) => {
        options.onError("NOTIFY failed", err);
      });
    }
  };

  await connect();
  return {
    publish(topic: string) {
      if (closed) return;
      pending.add(topic);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
    },
    async close() {
      closed = true;
      clearTimeout(reconnectTimer);
      const last = client;
      client = null;
      await last?.end().catch(() => undefined);
    },
  };
}
