/**
 * How far the server may trust its own sense of elapsed time when it judges whether a
 * device is silent or a run part is lost.
 *
 * Devices' last words are stored as wall-clock epoch ms (every replica and the UI read them),
 * but the wall clock may step and the server itself may stall (SIGSTOP, a VM pause, a handler
 * pinning the event loop). During a stall no heartbeat is recorded, so silence measured across
 * it says nothing about the devices. The server therefore watches itself on a monotonic clock:
 * any gap between its watch ticks longer than `stallMs`, or any disagreement between the wall
 * and monotonic clocks larger than `stallMs` (a clock step), starts a new trusted window, and
 * silence is only ever judged for a span the current window fully covers. After a stall every
 * agent thus gets a fresh grace period to be heard from before anything is declared lost.
 *
 * An overloaded server is the same case without a gap between ticks: its event loop runs, but
 * so far behind that connections wait in the accept queue and polls go unread for longer than
 * the offline window (a fleet of thousands while a deep queue is placed). Silence then says
 * more about the server than about the devices, so a watch tick that finds the event loop's
 * mean delay since the last tick above `busyMs` also starts a new trusted window.
 */
import type { Clock } from "../clock.js";

export class ServerLiveness {
  private lastMono: number;
  private lastWall: number;
  /** Monotonic start of the current trusted window (the server's start is its first). */
  private trustedSince: number;
  private stalls = 0;
  private overloads = 0;
  private overloaded = false;

  constructor(
    private readonly clock: Clock,
    /** A gap or clock step longer than this ends the trusted window. */
    private readonly stallMs: number,
    /** An event-loop delay (mean since the last tick) above this ends it too. */
    private readonly busyMs = Number.POSITIVE_INFINITY,
  ) {
    this.lastMono = clock.mono();
    this.lastWall = clock.wall();
    this.trustedSince = this.lastMono;
  }

  /**
   * Notes a stall, clock step or overload since the last call; call it often (a timer does),
   * with the event loop's mean delay since the last call when it is measured. True when one was seen.
   */
  observe(loopDelayMs = 0): boolean {
    const mono = this.clock.mono();
    const wall = this.clock.wall();
    const gap = mono - this.lastMono;
    const step = Math.abs(wall - this.lastWall - gap);
    this.lastMono = mono;
    this.lastWall = wall;
    this.overloaded = loopDelayMs > this.busyMs;
    if (this.overloaded) this.overloads++;
    if (gap <= this.stallMs && step <= this.stallMs && !this.overloaded) return false;
    this.trustedSince = mono;
    if (!this.overloaded) this.stalls++;
    return true;
  }

  /** How many stalls or clock steps ended a trusted window since the start. */
  get stallCount(): number {
    return this.stalls;
  }

  /** Watch ticks that found the server overloaded, since the start. */
  get overloadCount(): number {
    return this.overloads;
  }

  /** Whether the last watch tick found the server overloaded. */
  get isOverloaded(): boolean {
    return this.overloaded;
  }

  /** Milliseconds the server has been continuously live, with a steady wall clock. */
  trustedForMs(): number {
    this.observe();
    return this.clock.mono() - this.trustedSince;
  }

  /**
   * The wall-clock time before which a device's last word means it has been silent for
   * `windowMs`, or null while the server has not itself been live that long (grace).
   */
  silentBefore(windowMs: number): number | null {
    if (this.trustedForMs() < windowMs) return null;
    return this.clock.wall() - windowMs;
  }

  /**
   * Whether a device last heard from at `lastSeenAt` (wall ms) still counts as heard within
   * `windowMs`. In grace every device does. A last word from the future (written before the
   * wall clock stepped back) counts only until the window after the step has passed.
   */
  heardWithin(lastSeenAt: number | null, windowMs: number): boolean {
    return this.heardWithinTest(windowMs)(lastSeenAt);
  }

  /**
   * heardWithin for many devices at this moment: the clocks are read once, where asking
   * heardWithin of each of 10,000 devices reads them 10,000 times (most of a fleet pass's split).
   */
  heardWithinTest(windowMs: number): (lastSeenAt: number | null) => boolean {
    const before = this.silentBefore(windowMs);
    if (before === null) return () => true;
    const latest = this.clock.wall() + windowMs;
    return (lastSeenAt) => lastSeenAt !== null && lastSeenAt >= before && lastSeenAt <= latest;
  }

  now(): number {
    return this.clock.wall();
  }
}
