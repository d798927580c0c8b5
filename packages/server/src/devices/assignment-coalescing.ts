/**
 * Each placement wakes its device's held assignments poll, so a stream of launches cost one
 * poll (a request, a read of the device's runs, an agent round trip) per job. A poll that
 * finds changes, on a device that had changes a moment ago too, waits a few milliseconds
 * before it answers, so the placements landing meanwhile reach the agent in the same answer.
 * A device's first change after a quiet second is answered at once: a lone launch starts as
 * fast as before.
 */
export class AssignmentCoalescer {
  private readonly lastWokenAt = new Map<number, number>();

  constructor(
    /** The wait of a busy device's woken poll; 0 answers every poll at once. */
    private readonly windowMs: number,
    private readonly now: () => number,
    /** A device woken again within this is busy. */
    private readonly busyWithinMs = 1_000,
  ) {}

  /** A poll of `deviceId` found changes: how long it waits before it reads the assignments. */
  delayFor(deviceId: number): number {
    if (this.windowMs <= 0) return 0;
    const now = this.now();
    const last = this.lastWokenAt.get(deviceId);
    this.lastWokenAt.set(deviceId, now);
    return last !== undefined && now - last < this.busyWithinMs ? this.windowMs : 0;
  }
}
