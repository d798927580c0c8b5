import type { Kysely } from "kysely";
import { creditStandings } from "../billing/standing.js";
import { deviceTopic, runTopic, schedulerTopic } from "../notify.js";
import { lastSeenOf } from "../store/devices.js";
import { bumpFleetVersion } from "../store/fleet-version.js";
import { readPlacementInputs, readPlacementInputsInPass } from "../store/placement-inputs.js";
import { writeFreshPlacements } from "../store/placements.js";
import {
  type QueueWindow,
  type RunRow,
  anyRunWaiting,
  lastServedByOwner,
  listClusterQueuedRuns,
  listQueueHeads,
} from "../store/runs.js";
import type { Database } from "../store/schema.js";
import { isPostgres, takePlacementLock, tryPlacementLock } from "../store/transaction.js";
import { type Stateful, transition } from "../transition.js";
import { PassWriter, placementRowOf } from "./pass-writer.js";
import { type JobNeeds, type MatchResult, type PlacedNode, type CandidateDevice, matchJob } from "./matcher.js";
import { type PassPlacement, candidatesOf, decideInSteps } from "./queue-pass.js";
import { FleetCache, MAX_CAUGHT_UP, type OpenFleet } from "./fleet-cache.js";
import { matchIndexed } from "./indexed-match.js";
import { type Quiet, QuietPasses } from "./quiet-passes.js";

export { firstRankOf } from "./queue-pass.js";

export interface PlacementDeps extends Stateful {
  /**
   * Whether a device last heard from at `lastSeenAt` counts as online (OFFLINE ones never do),
   * as of the moment the test is asked for: a pass asks once and tests its whole fleet.
   */
  onlineTest: () => (lastSeenAt: number | null) => boolean;
  now: () => number;
}

/** The matcher bound to current capacity, as `lock` hands it out (clusterId: the cluster hook). */
export type Match = (ownerId: number, needs: JobNeeds, clusterId?: number | null) => Promise<MatchResult>;

/**
 * How many of each user's queued runs the nth window of a pass looks at (their oldest,
 * highest priority): 50 each, or an equal share of a total that grows fourfold with each
 * window. A pass over a full fleet tries no more than 50 runs a user; one that finds GPUs
 * free for a lone user's sweep places up to 50 + 200 + 800 + 3,200 of it.
 */
const queueWindow = (n: number): QueueWindow => ({ perUser: 50, total: 50 * 4 ** (n - 1) });

/** The nodes of a placement, node 0 first: the part each device runs. */
export interface Assignment {
  nodes: readonly PlacedNode[];
  /** Rank of node 0: 1 for training jobs, 0 for federated ones (whose server is rank 0). */
  firstRank: number;
}

/**
 * Runs a computation in steps, letting timers, I/O and requests in between them. `onStep`
 * gets what each step yields and may answer (asynchronously) what the next step is handed.
 */
async function inTurns<Y, T, N>(
  steps: Generator<Y, T, N | undefined>,
  onStep: (yielded: Y) => Promise<N | undefined> | undefined,
): Promise<T> {
  let answer: N | undefined;
  for (;;) {
    const step = steps.next(answer);
    if (step.done) return step.value;
    const pending = onStep(step.value);
    answer = pending === undefined ? undefined : await pending;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * How many windows of queue heads one pass may decide (placement.ts's pass reads the next
 * window while the last placed runs and GPUs are left): it holds the placement lock meanwhile.
 */
const WINDOWS_PER_PASS = 4;

/**
 * A pass that would read what the last one (which placed nothing) read is skipped
 * (quiet-passes.ts), but never for longer than this: the safety net should some input ever
 * change unmarked.
 */
const FULL_PASS_EVERY_MS = 30_000;

/**
 * Decides where runs go. Every decision and the rows it writes happen in one transaction
 * holding the database's placement lock (store/transaction.ts), so that no two placements,
 * in this process or another sharing the database, take the same GPU.
 */
export class Placement {
  private readonly quiet = new QuietPasses(FULL_PASS_EVERY_MS);

  /** The fleet kept between placements (fleet-cache.ts). */
  readonly fleet: FleetCache;

  /**
   * The fleet as each transaction holding the lock (through lock()) opened it (null until its
   * first match), kept up to date by assignFresh: launches applied together in one
   * transaction open it once, not once each. Nothing else in such a transaction changes what
   * is free (the lock keeps other placements out; parts that end meanwhile only leave more
   * free than it shows).
   */
  private readonly locked = new WeakMap<Kysely<Database>, Promise<OpenFleet> | null>();

  constructor(private readonly deps: PlacementDeps) {
    this.fleet = new FleetCache({ onlineTest: deps.onlineTest, now: deps.now });
  }

  /**
   * Asks the scheduler loops (every replica's, through the hub) for a queue pass; never waits
   * for it (requests must not). Inside a transition the wake-up waits for the commit, so the
   * pass sees what woke it.
   */
  wake(via: Pick<Stateful, "hub">): void {
    via.hub.notify(schedulerTopic);
  }

  /**
   * Takes the placement lock in the transaction `trx` (held until it ends) and answers the
   * matcher bound to capacity as that transaction sees it. `clusterId` (cluster hook): match
   * on that cluster's devices only; without it, reserved devices are not free.
   */
  async lock(trx: Kysely<Database>): Promise<Match> {
    await takePlacementLock(trx);
    if (!this.locked.has(trx)) this.locked.set(trx, null);
    return async (ownerId, needs, clusterId) => {
      const fleet = await this.fleetOf(trx);
      // Outside clusters the index answers as the plain matcher over the owner's candidates
      // would (indexed-match.ts), reading only the devices it takes.
      if ((clusterId ?? null) === null && needs.requesterId === String(ownerId)) return matchIndexed(needs, fleet.index());
      return matchJob(needs, candidatesOf(ownerId, fleet.snapshot, clusterId ?? null));
    };
  }

  /** The devices `ownerId` may use, with what is free on them now (for matching and dry runs). */
  async candidatesFor(db: Kysely<Database>, ownerId: number, clusterId: number | null = null): Promise<CandidateDevice[]> {
    return candidatesOf(ownerId, (await this.fleetOf(db)).snapshot, clusterId);
  }

  /** The fleet as `db` sees it: opened once per transaction that holds the lock. */
  private fleetOf(db: Kysely<Database>): Promise<OpenFleet> {
    if (!this.locked.has(db)) return this.fleet.open(db);
    let open = this.locked.get(db);
    if (!open) {
      open = this.fleet.open(db);
      this.locked.set(db, open);
    }
    return open;
  }

  /**
   * Assigns a run stored placed (STARTING, with placed_at) in this same transaction, as a
   * launch that fits at once stores it, to its devices, all at once (gang): node i gets rank
   * i + firstRank and waits QUEUED for its agent to take it. The run is not claimed: no one
   * else can have seen it yet. Call it inside the placement transaction.
   */
  async assignFresh(tx: Stateful, run: Pick<RunRow, "id">, placement: Assignment): Promise<void> {
    const placements = [{ run, ...placement }];
    await writeFreshPlacements(tx.db, placements.map(placementRowOf));
    const open = this.locked.get(tx.db);
    if (open) (await open).add(placement.nodes);
    this.announce(tx, placements, new Set([run.id]));
  }

  /**
   * One pass over the waiting runs, in one transaction under the placement lock: load (one
   * read of the fleet, the waiting runs, their owners' credit), decide over the whole batch
   * (queue-pass.ts, pure), apply every placement at once. Answers how many runs it placed.
   */
  placeQueued(): Promise<number> {
    return this.pass(true) as Promise<number>;
  }

  /**
   * placeQueued unless another transaction holds the placement lock (another replica's pass,
   * a launch): then null at once. That pass sees the whole queue too, so with several
   * replicas one does each pass instead of all of them doing it one after another.
   */
  placeQueuedUnlessBusy(): Promise<number | null> {
    return this.pass(false);
  }

  private async pass(wait: boolean): Promise<number | null> {
    const { db: store, onlineTest, now } = this.deps;
    // Outside the lock: an unchanged store needs no pass, whoever holds it.
    const skip = await this.quiet.holds({
      version: () => readPlacementInputs(store),
      lastSeen: async (ids) => [...(await lastSeenOf(store, ids)).values()],
      isOnline: onlineTest(),
      now,
    });
    if (skip) return 0;
    // Most passes are woken by parts ending while nothing waits (a sweep placed as launched):
    // one read answers them, without a transaction or the lock. A run queued after this read
    // wakes another pass once its launch commits.
    if (!(await anyRunWaiting(this.deps.db))) return 0;
    const startedAt = this.deps.now();
    // CPU per phase beside wall time: on a busy machine the wall times mostly show the wait for a core.
    const cpuAtStart = process.cpuUsage();
    const cpuMs = (since: NodeJS.CpuUsage) => {
      const used = process.cpuUsage(since);
      return Math.round((used.user + used.system) / 1000);
    };
    let considered = 0;
    let phases = {};
    // What this pass read, remembered if it places nothing.
    const read: { quiet: Quiet | null } = { quiet: null };
    this.quiet.forget();
    const placed = await transition(this.deps, async (tx) => {
      const { db } = tx;
      if (wait) await takePlacementLock(db);
      else if (!(await tryPlacementLock(db))) return null;
      // Before everything else it reads: what it reads then is at least as new as the marker.
      const version = await readPlacementInputsInPass(db);
      const readAt = now();
      const clusterRuns = await listClusterQueuedRuns(db);
      const heads = await listQueueHeads(db, queueWindow(1));
      considered = clusterRuns.length + heads.length;
      if (considered === 0) {
        read.quiet = { version, at: readAt, silent: [] };
        return 0;
      }
      const fleet = await this.fleet.open(db);
      const { snapshot, silent } = fleet;
      read.quiet = { version, at: readAt, silent: [...silent] };
      const credit = await creditStandings(
        db,
        [...clusterRuns, ...heads].map((r) => r.owner_id),
      );
      const lastServed = await lastServedByOwner(
        db,
        heads.map((r) => r.owner_id),
      );
      // One clock reading for the pass, taken after the read of the fleet: a run is placed
      // no earlier than the parts whose end freed its GPUs.
      const placedAt = this.deps.now();
      const loadCpuMs = cpuMs(cpuAtStart);
      const cpuAtDecide = process.cpuUsage();
      // The decision is written in chunks as it is made (the database writes one while this
      // process decides the next), all in this transaction.
      const writer = new PassWriter(db, placedAt);
      let windows = 1;
      // The kept fleet's index, when there are heads to place with it: the pass takes its GPUs
      // from it, and it is kept again, with them taken, for the launches and the pass after.
      const index = heads.length > 0 ? fleet.indexForPass() : undefined;
      const input = { clusterRuns, heads, snapshot, credit, lastServed, index };
      const decision = await inTurns(decideInSteps(input), (step) => {
        if (!step.windowDone || windows >= WINDOWS_PER_PASS) {
          writer.send(step.decision);
          return undefined;
        }
        writer.send(step.decision, true);
        windows++;
        // The next window as the store has it once this pass's claims so far have landed (in
        // this transaction): the fleet, its parts and the credit stay as the pass sees them.
        return writer.flushed().then(async () => {
          // Runs of owners whose credit this pass did not read (launched since it began) wait
          // for the next pass, which reads it.
          const next = (await listQueueHeads(db, queueWindow(windows))).filter((run) => credit.has(run.owner_id));
          considered += next.length;
          return next;
        });
      });
      const decidedAt = this.deps.now();
      const decideCpuMs = cpuMs(cpuAtDecide);
      const cpuAtApply = process.cpuUsage();
      const claimed = await writer.done(decision);
      // Its claims bumped nothing on PostgreSQL (readPlacementInputsInPass): the fleet changed
      // once, on the devices it placed on. On SQLite each part's row bumped the version once.
      const postgres = isPostgres(db);
      const written = decision.placements.filter((p) => claimed.has(p.run.id)).flatMap((p) => p.nodes);
      if (claimed.size > 0 && postgres) {
        const devices = new Set(written.map((n) => Number(n.deviceId)));
        await bumpFleetVersion(db, devices.size > MAX_CAUGHT_UP ? null : devices);
      }
      fleet.passWrote(
        written,
        postgres ? (claimed.size > 0 ? 1 : 0) : written.length,
        claimed.size === decision.placements.length,
      );
      this.announce(tx, decision.placements, claimed);
      const applied = claimed.size;
      phases = {
        loadMs: placedAt - startedAt,
        decideMs: decidedAt - placedAt,
        applyMs: this.deps.now() - decidedAt,
        loadCpuMs,
        decideCpuMs,
        applyCpuMs: cpuMs(cpuAtApply),
      };
      return applied;
    });
    if (placed === 0 && read.quiet) this.quiet.remember(read.quiet);
    if (placed) {
      // After the commit: from the pass's start (lock and load included) to its placements landing.
      const endedAt = this.deps.now();
      this.deps.log.info(
        { event: "queue.pass", placed, considered, startedAt, endedAt, ms: endedAt - startedAt, ...phases },
        "queue pass placed runs",
      );
    }
    return placed;
  }

  /**
   * Announces the placements that landed (after the commit: `tx` defers them). A run changed
   * meanwhile (a stop) was left out; the GPUs it was given stay free for the next pass, which
   * is asked for.
   */
  private announce(
    tx: Stateful,
    placements: readonly { run: Pick<RunRow, "id">; nodes: PassPlacement["nodes"] }[],
    claimed: ReadonlySet<number>,
  ): void {
    const devices = new Set<number>();
    for (const { run, nodes } of placements) {
      if (!claimed.has(run.id)) continue;
      const deviceIds = nodes.map((n) => Number(n.deviceId));
      for (const id of deviceIds) devices.add(id);
      tx.hub.notify(runTopic(run.id));
      tx.log.info({ event: "run.placed", runId: run.id, deviceIds }, "run placed");
    }
    for (const id of devices) tx.hub.notify(deviceTopic(id));
    if (claimed.size < placements.length) this.wake(tx);
  }
}
