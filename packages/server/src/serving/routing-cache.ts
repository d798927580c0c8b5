/**
 * What the inference proxy looks up on every request (the caller's key, the endpoint, its
 * replicas), remembered between requests: three queries a request cost more than the rest of
 * the proxy's own work. An endpoint's entry is forgotten the moment anything about it is
 * announced (a replica ready or unhealthy, retired, ended; a replica's run stopping or ending:
 * the endpoint's and the runs' topics, from every replica on PostgreSQL), and after `ttlMs`
 * in any case. A key's answer is kept `ttlMs`: a revoked or disabled key stops reaching
 * endpoints within that time.
 */
import type { NotifyHub } from "../notify.js";
import { endpointTopic, runTopic } from "../notify.js";
import { type ReplicaRow, listReplicas } from "../store/endpoint-replicas.js";
import { type EndpointRow, findEndpoint } from "../store/endpoints.js";
import type { Database } from "../store/schema.js";
import type { Kysely } from "kysely";
import { type UserRow, findUserByKeyHash } from "../store/users.js";

export const ROUTING_TTL_MS = 1_000;
/** Bounds memory with many endpoints or keys: the oldest entry goes first. */
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
  /** Wall clock, for key expiry (as the native API checks it). */
  now: () => number;
}

export class InferenceRouting {
  private readonly keys = new Map<string, { user: UserRow; until: number }>();
  private readonly endpoints = new Map<number, RoutingEntry>();

  constructor(
    private readonly sources: RoutingSources,
    private readonly ttlMs = ROUTING_TTL_MS,
    /** Monotonic: a wall-clock step neither keeps nor drops entries. */
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  /** The user whose API key hashes to `keyHash` (undefined: not accepted); refusals are not remembered. */
  async userOfKey(keyHash: string): Promise<UserRow | undefined> {
    const hit = this.keys.get(keyHash);
    if (hit && hit.until > this.monotonic()) return hit.user;
    this.keys.delete(keyHash);
    const user = await findUserByKeyHash(this.sources.db, keyHash, this.sources.now());
    if (user) {
      if (this.keys.size >= MAX_ENTRIES) this.keys.delete(this.keys.keys().next().value as string);
      this.keys.set(keyHash, { user, until: this.monotonic() + this.ttlMs });
    }
    return user;
  }

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
