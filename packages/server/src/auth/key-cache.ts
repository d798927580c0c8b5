/**
 * The user each API key stands for, remembered between requests: a launch burst or a
 * follower's polls would otherwise look the same key up (a hash and a join) for every
 * request. Only acceptances are kept, each for at most `ttlMs` and never past its key's
 * expiry. Revoking, rotating or disabling (api/users.ts) announces the API keys topic after
 * its commit: this process forgets every key at once, and the other replicas on PostgreSQL as
 * soon as the notification reaches them; `ttlMs` bounds how long a lost notification (or a
 * change made beside the API) leaves a key working there.
 */
import type { Kysely } from "kysely";
import { type NotifyHub, apiKeysTopic } from "../notify.js";
import type { Database } from "../store/schema.js";
import { type UserRow, findKeyHolder } from "../store/users.js";
import { Remembered } from "./remembered.js";

export const KEY_TTL_MS = 1_000;
/** Bounds memory with many keys in use: the oldest entry goes first. */
const MAX_KEYS = 10_000;

export interface KeySources {
  db: Kysely<Database>;
  hub: NotifyHub;
  /** Wall clock, for key expiry (as the store checks it). */
  now: () => number;
}

export class KeyCache {
  private readonly holders: Remembered<{ user: UserRow; expiresAt: number | null }>;

  constructor(
    private readonly sources: KeySources,
    ttlMs = KEY_TTL_MS,
    /** Monotonic: a wall-clock step neither keeps nor drops entries. */
    monotonic: () => number = () => performance.now(),
  ) {
    this.holders = new Remembered(ttlMs, MAX_KEYS, monotonic);
    sources.hub.subscribe(apiKeysTopic, () => this.forgetAll());
  }

  /** The user whose API key hashes to `keyHash` (undefined: not accepted). */
  async userOfKey(keyHash: string): Promise<UserRow | undefined> {
    const now = this.sources.now();
    const holder = await this.holders.get(
      keyHash,
      () => findKeyHolder(this.sources.db, keyHash, now),
      (held) => held.expiresAt === null || held.expiresAt > this.sources.now(),
    );
    return holder?.user;
  }

  forgetAll(): void {
    this.holders.forgetAll();
  }
}
