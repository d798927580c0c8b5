/**
 * Skipping queue passes that would decide what the last one did. A pass that placed nothing
 * remembers the version of the store's change marker it read (store/placement-inputs.ts) and
 * the devices it left out as silent; the next pass is skipped while the marker is unchanged,
 * none of those devices was heard from since and the quiet is younger than `fullPassEveryMs`
 * (a safety net: a full pass at least that often whatever the marker says).
 *
 * Devices are the one input no write marks: one counts as offline once silent for the
 * offline window, with no write, and as online again when a heartbeat sets last_seen_at,
 * which the marker does not watch (heartbeats write it all the time). Going silent only
 * takes capacity away; coming back is checked here, over the few devices found silent.
 */

/** More silent devices than this and a pass is not remembered: checking them costs too much. */
const MAX_SILENT = 500;

export interface Quiet {
  version: number;
  /** When the pass read the marker (wall ms). */
  at: number;
  /** Devices not OFFLINE that the pass left out as silent. */
  silent: readonly number[];
}

export interface QuietCheck {
  /** The marker's version now. */
  version: () => Promise<number>;
  /** last_seen_at of these devices. */
  lastSeen: (deviceIds: readonly number[]) => Promise<(number | null)[]>;
  isOnline: (lastSeenAt: number | null) => boolean;
  now: () => number;
}

export class QuietPasses {
  private quiet: Quiet | null = null;

  constructor(private readonly fullPassEveryMs: number) {}

  /** After a pass that placed nothing (and committed): what it read. */
  remember(quiet: Quiet): void {
    this.quiet = quiet.silent.length > MAX_SILENT ? null : quiet;
  }

  /** After a pass that placed runs, failed, or was not run. */
  forget(): void {
    this.quiet = null;
  }

  /** Whether a pass now would read what the remembered one did (then it is skipped). */
  async holds(check: QuietCheck): Promise<boolean> {
    const quiet = this.quiet;
    if (!quiet) return false;
    if (check.now() - quiet.at >= this.fullPassEveryMs || (await check.version()) !== quiet.version) return false;
    if (quiet.silent.length === 0) return true;
    return !(await check.lastSeen(quiet.silent)).some((seen) => check.isOnline(seen));
  }
}
