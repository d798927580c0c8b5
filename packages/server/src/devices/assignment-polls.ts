/**
 * The agents' assignments long-poll, whichever way its request came in: through fastify's
 * route, or ahead of it (api/assignments-front.ts) for the plain polls that are nearly every
 * request a fleet sends. A poll is heard, held until its device's version passes the agent's
 * (held-polls.ts) or its wait ends, and answered with the device's whole desired state
 * (assignments.ts).
 */
import { DeviceStatus } from "@fedml/core";
import { setTimeout as sleep } from "node:timers/promises";
import type { ServerContext } from "../context.js";
import { type DeviceIdentity, touchDevice } from "../store/devices.js";
import { AssignmentCoalescer } from "./assignment-coalescing.js";
import { AssignmentAnswers } from "./assignments.js";
import { DeviceVersionReader } from "./device-versions.js";
import { type HeldPoll, HeldPolls } from "./held-polls.js";

/** A long-poll held at least this long marks its device seen again when it answers. */
const RETOUCH_AFTER_MS = 1_000;

/**
 * A held poll ends up to this share of its wait early, at random. Polls taken on together (a
 * burst of placements answered at once, a fleet reconnecting, requests queued behind any
 * stall) would end together however many they are, be answered in one long run of the event
 * loop, come back together and stay a herd for good: herds merge and never split. Without it
 * (a timer per poll then) 10,000 agents' polls came back at 360 to 1,600 a second within each
 * 10 s wait, and the server spent a tenth of its time in runs of 15 ms or more. Blocking
 * queries elsewhere (Consul, Nomad) jitter their waits for the same reason.
 */
export const HOLD_JITTER_SHARE = 1 / 16;

/** The hold of a poll that may wait `waitMs`: up to HOLD_JITTER_SHARE of it less, at random (`random` in [0, 1)). */
export function jitteredHoldMs(waitMs: number, random: () => number): number {
  return waitMs - Math.floor(waitMs * HOLD_JITTER_SHARE * random());
}

/** The answer's Server-Timing header: how long the poll was to be held at most (ms), so a client can tell the server's time from the hold. */
export function holdTiming(holdMs: number): string {
  return `hold;dur=${holdMs}`;
}

/**
 * Where a poll's answer goes. Held for the whole wait by every agent at once: an
 * implementation keeps its few references as fields, with no closure of its own.
 */
export interface PollReply {
  /** The answer: JSON text of an AssignmentsResponse; `holdMs` the longest it was to be held (its Server-Timing). */
  send(json: string, holdMs: number): void;
  /** The poll failed after it was taken on (a read that threw): answered as any error is. */
  fail(error: unknown): void;
  /** The client hung up (asked on the held polls' shared tick). */
  readonly gone: boolean;
}

export class AssignmentPolls {
  private readonly coalescer: AssignmentCoalescer;
  private readonly answers: AssignmentAnswers;
  private readonly held: HeldPolls<PollReply>;

  /** @param random the holds' jitter (Math.random's range) */
  constructor(
    private readonly ctx: ServerContext,
    private readonly random: () => number = Math.random,
  ) {
    this.answers = new AssignmentAnswers(ctx.db);
    const versions = new DeviceVersionReader(ctx.db);
    this.coalescer = new AssignmentCoalescer(ctx.options.assignmentCoalesceMs, ctx.now);
    this.held = new HeldPolls<PollReply>({
      hub: ctx.hub,
      changed: async (deviceId, since) => {
        const version = await versions.version(deviceId);
        return version !== undefined && version > since;
      },
      // A hang-up is found on the shared tick (within a second): a listener and a map entry
      // per poll lived, and were promoted, with every held poll.
      gone: (reply) => reply.gone,
      answer: (poll, reply, changed, error) => {
        if (error !== undefined) reply.fail(error);
        else this.answer(reply, poll, changed).catch((err: unknown) => reply.fail(err));
      },
    });
  }

  /**
   * Takes on a poll of `device` (authenticated): heard now, held up to `waitMs` (bounded by
   * the server's options) unless its device's version is already past `since`.
   */
  serve(device: DeviceIdentity, since: number, waitMs: number, reply: PollReply): void {
    const ctx = this.ctx;
    const heardAt = ctx.now();
    // Held polls must end well before the device would count as silent.
    const holdMs = jitteredHoldMs(Math.min(waitMs, ctx.options.pollMaxWaitMs, ctx.options.offlineAfterMs / 2), this.random);
    // A device coming back is written at once (placement may use it); the rest in batches.
    if (device.status !== DeviceStatus.OFFLINE) {
      ctx.heartbeats.heard(device.id, heardAt);
      this.held.hold(device.id, since, holdMs, heardAt, reply);
      return;
    }
    touchDevice(ctx.db, device.id, heardAt).then(
      (revived) => {
        if (revived) {
          ctx.log.info({ event: "device.online", deviceId: device.id }, "device back online");
          ctx.placement.wake(ctx);
        }
        this.held.hold(device.id, since, holdMs, heardAt, reply);
      },
      (err: unknown) => reply.fail(err),
    );
  }

  /** The poll's answer, once its wait ended (`changed`: the device's version moved). */
  private async answer(reply: PollReply, poll: HeldPoll<PollReply>, changed: boolean): Promise<void> {
    const ctx = this.ctx;
    const { deviceId, heardAt } = poll;
    // More of a burst of placements may be landing: a busy device gets them in one answer.
    if (changed) {
      const delayMs = this.coalescer.delayFor(deviceId);
      if (delayMs > 0) await sleep(delayMs);
    }
    // A poll held a while is heard again at its end; one answered at once was heard just now.
    if (ctx.now() - heardAt >= RETOUCH_AFTER_MS) ctx.heartbeats.heard(deviceId, ctx.now());
    // Kept per device as JSON: sent as it is, not serialized again per poll.
    reply.send(await this.answers.answer(ctx, deviceId), poll.holdMs);
  }
}
