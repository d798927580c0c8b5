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
import { HeldPolls } from "./held-polls.js";

/** A long-poll held at least this long marks its device seen again when it answers. */
const RETOUCH_AFTER_MS = 1_000;

/**
 * Where a poll's answer goes. Held for the whole wait by every agent at once: an
 * implementation keeps its few references as fields, with no closure of its own.
 */
export interface PollReply {
  /** The answer: JSON text of an AssignmentsResponse. */
  send(json: string): void;
  /** The poll failed after it was taken on (a read that threw): answered as any error is. */
  fail(error: unknown): void;
  /** The client hung up (asked on the held polls' shared tick). */
  readonly gone: boolean;
}

export class AssignmentPolls {
  private readonly coalescer: AssignmentCoalescer;
  private readonly answers = new AssignmentAnswers();
  private readonly held: HeldPolls<PollReply>;

  constructor(private readonly ctx: ServerContext) {
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
        else this.answer(reply, poll.deviceId, poll.heardAt, changed).catch((err: unknown) => reply.fail(err));
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
    const holdMs = Math.min(waitMs, ctx.options.pollMaxWaitMs, ctx.options.offlineAfterMs / 2);
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
  private async answer(reply: PollReply, deviceId: number, heardAt: number, changed: boolean): Promise<void> {
    const ctx = this.ctx;
    // More of a burst of placements may be landing: a busy device gets them in one answer.
    if (changed) {
      const delayMs = this.coalescer.delayFor(deviceId);
      if (delayMs > 0) await sleep(delayMs);
    }
    // A poll held a while is heard again at its end; one answered at once was heard just now.
    if (ctx.now() - heardAt >= RETOUCH_AFTER_MS) ctx.heartbeats.heard(deviceId, ctx.now());
    // Kept per device as JSON: sent as it is, not serialized again per poll.
    reply.send(await this.answers.answer(ctx, deviceId));
  }
}
