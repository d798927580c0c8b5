/**
 * The device each device token stands for, remembered between requests. Every agent request
 * carries its token, and an agent's held poll comes back every few seconds: with 10,000
 * agents, looking each up (a hash and a read of a two-dozen-column row) was a fifth of the
 * server's work per poll. A token stops standing for its device only when the device is
 * unbound or bound again (a new token): both announce the device tokens topic after their
 * commit, and every process forgets every token at once (the other replicas on PostgreSQL as
 * the notification reaches them; a reconnect delivers every topic, in case one was lost).
 * `ttlMs` bounds what a change made beside the API leaves working.
 *
 * What is remembered is the device's identity as read then, not its whole row (with 10,000
 * agents the rows' facts were a sizeable part of the server's heap, re-read every `ttlMs`):
 * its id and owner are the device's for good; its name may be up to `ttlMs` old (for
 * messages). Its status is the one thing read from it that changes by itself: the offline
 * sweep announces the same topic when it marks devices OFFLINE, so that a poll from one sees
 * it and brings it back at once (api/agent.ts).
 */
import type { Kysely } from "kysely";
import { type NotifyHub, deviceTokensTopic } from "../notify.js";
import { type DeviceIdentity, findDeviceByTokenHash } from "../store/devices.js";
import type { Database } from "../store/schema.js";
import { Remembered } from "./remembered.js";

export const DEVICE_TOKEN_TTL_MS = 60_000;
/** Bounds memory: a fleet's worth of devices and more. */
const MAX_TOKENS = 50_000;

export class DeviceTokens {
  private readonly devices: Remembered<DeviceIdentity>;

  constructor(
    private readonly db: Kysely<Database>,
    hub: NotifyHub,
    ttlMs = DEVICE_TOKEN_TTL_MS,
  ) {
    this.devices = new Remembered(ttlMs, MAX_TOKENS);
    hub.subscribe(deviceTokensTopic, () => this.devices.forgetAll());
  }

  /** The bound device whose token hashes to `tokenHash` (undefined: not accepted). */
  deviceOf(tokenHash: string): Promise<DeviceIdentity | undefined> {
    return this.devices.get(tokenHash, () => findDeviceByTokenHash(this.db, tokenHash));
  }
}
