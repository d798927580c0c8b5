import type { FastifyBaseLogger } from "fastify";
import type { ParsePool } from "@fedml/core";
import type { Kysely } from "kysely";
import type { ResolvedOptions } from "./config.js";
import type { DeviceTokens } from "./auth/device-tokens.js";
import type { KeyCache } from "./auth/key-cache.js";
import type { Heartbeats } from "./devices/heartbeats.js";
import type { ServerLiveness } from "./devices/liveness.js";
import type { NotifyHub } from "./notify.js";
import type { Placement } from "./scheduler/placement.js";
import type { ReplicaLoad } from "./serving/replica-load.js";
import type { TunnelHub } from "./serving/tunnel-hub.js";
import type { TunnelPeers } from "./serving/tunnel-peers.js";
import type { Database } from "./store/schema.js";
import type { BlobStore } from "./workspaces/blob-store.js";

/** What request handlers and background tasks share; built once in app.ts. */
export interface ServerContext {
  db: Kysely<Database>;
  /** Where workspace bytes are kept: the database, or an S3-compatible bucket. */
  blobs: BlobStore;
  options: ResolvedOptions;
  hub: NotifyHub;
  /** The server's structured log (pino, fastify's): state changes are logged as events. */
  log: FastifyBaseLogger;
  placement: Placement;
  /** Parses clients' job YAML in worker threads, each with a deadline. */
  jobYaml: ParsePool;
  /** Agents' inference tunnels to this process. */
  tunnels: TunnelHub;
  /** Where the tunnels held by other processes are (set once this one listens). */
  tunnelPeers?: TunnelPeers;
  /** Requests in flight and answered per endpoint replica, counted at this process's proxy. */
  replicaLoad: ReplicaLoad;
  /** Where users and agents reach this server (no trailing slash). */
  publicUrl: () => string;
  now: () => number;
  /**
   * Whether a device last heard from then counts as online, as of the moment the test is asked
   * for: a listing or a pass asks once and tests all its devices (the clocks read once).
   */
  onlineTest: () => (lastSeenAt: number | null) => boolean;
  /** The server's own liveness: silence is judged only over spans it was live for. */
  liveness: ServerLiveness;
  /** Devices' heartbeats, written in batches (flushed before anyone judges silence). */
  heartbeats: Heartbeats;
  /** The users API keys stand for, remembered briefly and forgotten on any revocation. */
  keys: KeyCache;
  /** The devices device tokens stand for, remembered and forgotten when a device is unbound or bound again. */
  deviceTokens: DeviceTokens;
}
