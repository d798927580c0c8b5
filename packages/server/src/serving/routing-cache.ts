/**
 * What the inference proxy looks up on every request (the endpoint, its replicas; the
 * caller's key is remembered by ctx.keys, auth/key-cache.ts), remembered between requests:
 * the queries a request cost more than the rest of the proxy's own work. An endpoint's entry
 * is forgotten the moment anything about it is announced (a replica ready or unhealthy,
 * retired, ended; a replica's run stopping or ending: the endpoint's and the runs' topics,
 * from every replica on PostgreSQL), and after `ttlMs` in any case.
 */
import type { NotifyHub } from "../notify.js";
import { endpointTopic, runTopic } from "../notify.js";
import { type ReplicaRow, listReplicas } from "../store/endpoint-replicas.js";
import { type EndpointRow, findEndpoint } from "../store/endpoints.js";
import type { Database } from "../store/schema.js";
import type { Kysely } from "kysely";

export const ROUTING_TTL_MS = 1_000;
/** Bounds memory with many endpoints: the oldest entry goes first. */
const MAX_ENTRIES = 10_000;

export interface Routing {
  endpoint: EndpointRow;
  replicas: ReplicaRow[];
}

interface RoutingEntry {
  routing: Routing;
  until: number;
  unsubscribe: () => void;
}

export interface RoutingSources {
  db: Kysely<Database>;
  hub: NotifyHub;
}

export class InferenceRouting {
  private readonly endpoints = new Map<number, RoutingEntry>();

  constructor(
    private readonly sources: RoutingSources,
    private readonly ttlMs = ROUTING_TTL_MS,
    /** Monotonic: a wall-clock step neither keeps nor drops entries. */
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  /** The endpoint and its replicas (undefined: no such endpoint). */
  async routing(endpointId: number): Promise<Routing | undefined> {
    const hit = this.endpoints.get(endpointId);
    if (hit && hit.until > this.monotonic()) return hit.routing;
    this.forget(endpointId);
    const endpoint = await findEndpoint(this.sources.db, endpointId);
    if (!endpoint) return undefined;
    const routing = { endpoint, replicas: await listReplicas(this.sources.db, [endpointId]) };
    // Subscribed before it is stored: an announcement from now on drops it.
    const topics = [endpointTopic(endpointId), ...routing.replicas.map((r) => runTopic(r.run_id))];
    const unsubscribes = topics.map((topic) => this.sources.hub.subscribe(topic, () => this.forget(endpointId)));
    if (this.endpoints.size >= MAX_ENTRIES) this.forget(this.endpoints.keys().next().value as number);
    this.endpoints.set(endpointId, {
      routing,
      until: this.monotonic() + this.ttlMs,
      unsubscribe: () => {
        for (const unsubscribe of unsubscribes) unsubscribe();
      },
    });
    return routing;
  }

  forget(endpointId: number): void {
    const entry = this.endpoints.get(endpointId);
    if (!entry) return;
    this.endpoints.delete(endpointId);
    entry.unsubscribe();
  }
}
