/**
 * The fleet kept between placements. Every launch that fits at once, and every queue pass
 * that finds runs waiting, matches against the whole fleet: at 10,000 devices a fresh read is
 * 10,000 device rows and as many parts, tens of milliseconds in which better-sqlite3 holds
 * the event loop (and every held poll due meanwhile waits). A copy kept with the fleet's
 * version (store/fleet-version.ts) is used instead while the version is unchanged.
 *
 * What makes a kept copy right:
 * - It is kept only once its transaction committed (a rolled-back one keeps nothing), and
 *   labelled with the version it was read (or reused) at plus one for each part the
 *   transaction added to it itself. The version only grows, and counts every committed row
 *   that changed the fleet: it equals that label exactly when no one else, nor any other
 *   write of the same transaction, changed the fleet since the read. Otherwise it is past
 *   the label already or soon, and the copy is not used as it is.
 * - A copy the version went past catches up instead of being read afresh: the change log
 *   (store/fleet-version.ts) names the devices each version's change concerns, and only
 *   those devices' rows and live parts are read again. It catches up from `base`, the
 *   version it was read at, not from its label: the versions between them are its own parts
 *   only when nothing interleaved (on PostgreSQL another transaction's rows may take them
 *   while its own are counted later), and its own parts' devices are read again harmlessly
 *   (so a copy kept by a pass that placed on more devices than a catch-up reads is read
 *   afresh after the next change).
 *   The log is trusted only when it holds every version of (base, version] and names a
 *   device for each: a cluster change, a pruned stretch, or a transaction too big to list
 *   means a fresh read. The caught-up copy is as good as one read at `version`: every device
 *   no change in the range names is as it was at `base`, the others are as read now (at
 *   least as new). Its label is that version read in this transaction, which every committed
 *   write of the range reached (the versions are handed out in commit order, under the
 *   row's lock), so the label is never higher than what committed writes reached, and like
 *   every copy it is kept only after this transaction commits (on SQLite a transaction sees
 *   its own uncommitted bumps). Its index is patched in place, capacity only
 *   (CandidateIndex.replace), and taken off the kept copy meanwhile (a rollback keeps the old
 *   copy without it); a device added, gone or changed in a column the index reads drops the
 *   index alone, which is built again on first use (the rows are the dearer read).
 * - Silence is the one input no write marks: a device is online while its last heartbeat is
 *   recent. last_seen_at only grows, so a device the copy's last_seen_at says is online is
 *   online; one it says is silent is looked up again (a heartbeat may have come since). Every
 *   REFRESH_MS the devices' last_seen_at alone are read again, so that the lookups stay few;
 *   a copy that would need more than MAX_STALE of them is read afresh instead.
 */
import type { Kysely } from "kysely";
import { listReservations } from "../store/clusters.js";
import {
  type PlacementDeviceRow,
  lastSeenOf,
  listLastSeen,
  listLiveDevices,
  listLiveDevicesIn,
  placementColumns,
} from "../store/devices.js";
import { readFleetChanges, readFleetVersion } from "../store/fleet-version.js";
import { listLivePartHoldings, listLivePartHoldingsOn } from "../store/runs.js";
import type { Database } from "../store/schema.js";
import { afterCommit } from "../store/transaction.js";
import { scopeCandidates } from "../clusters/scope.js";
import { type LiveRunPartRow, toCandidates } from "./capacity.js";
import { CandidateIndex } from "./candidate-index.js";
import type { PlacedNode } from "./matcher.js";
import type { Snapshot } from "./queue-pass.js";

/** How often a kept copy's last_seen_at are read again (one narrow read of the fleet). */
const REFRESH_MS = 10_000;
/** More devices than this to look up again and the copy is read afresh. */
const MAX_STALE = 500;
/**
 * More devices than this to catch up on and the copy is read afresh: at 10,000 devices a
 * catch-up of 100 cost about 7 ms of CPU, a fresh read with its index about 180 ms.
 */
export const MAX_CAUGHT_UP = 2_000;
/** A copy this many versions behind is read afresh without reading the log. */
const MAX_LOGGED = 10_000;

/** Whether two rows of a device agree in all the index reads of it (last_seen_at aside: the silent set covers it). */
const sameDevice = (a: PlacementDeviceRow, b: PlacementDeviceRow): boolean =>
  placementColumns.every((column) => column === "last_seen_at" || a[column] === b[column]);

/** The fleet as read at one version: every device not OFFLINE, silent ones included. */
interface KeptFleet {
  /** The label: the version at which it is the fleet exactly. */
  version: number;
  /** The version it was read or caught up at: it shows every change up to it (and its own parts). */
  base: number;
  devices: readonly PlacementDeviceRow[];
  live: readonly LiveRunPartRow[];
  reservations: Snapshot["reservations"];
  /** When the devices' last_seen_at were last read (wall ms). */
  seenAt: number;
  /** The index a transaction built over it, with the silent devices it left out. */
  index: { silent: string; index: CandidateIndex } | null;
}

/** The fleet handed to one transaction holding the placement lock. */
export interface OpenFleet {
  /** Online devices only; `live` is this transaction's own, grown by add(). */
  readonly snapshot: Snapshot;
  /** The devices not OFFLINE it leaves out as silent. */
  readonly silent: readonly number[];
  /**
   * The online devices outside any cluster as candidates, indexed (candidate-index.ts): what
   * candidatesOf(owner, snapshot, null) holds for each owner, so that a launch reads only the
   * devices it takes. Built on first use, or kept from the transaction before with the copy.
   */
  index(): CandidateIndex;
  /** A part this transaction wrote per node, one row each (the version counts one bump per row). */
  add(nodes: readonly Pick<PlacedNode, "deviceId" | "gpuIndices">[]): void;
  /**
   * index() for a queue pass that takes each placement's GPUs from it itself as it decides
   * (queue-pass.ts): the kept copy lets go of it meanwhile (a pass that rolls back leaves a
   * changed index behind), and gets it back at the commit through passWrote().
   */
  indexForPass(): CandidateIndex;
  /**
   * What a pass deciding on indexForPass() wrote: a part per node, which moved the version by
   * `bumps` (the caller knows how its writes are counted). `exact`: the index took these
   * parts and no others (false when the pass decided runs it could not claim): otherwise the
   * index is not kept.
   */
  passWrote(nodes: readonly Pick<PlacedNode, "deviceId" | "gpuIndices">[], bumps: number, exact: boolean): void;
}

export interface FleetCacheDeps {
  /** As PlacementDeps.onlineTest. */
  onlineTest: () => (lastSeenAt: number | null) => boolean;
  now: () => number;
}

export class FleetCache {
  private kept: KeptFleet | null = null;
  /** Fresh reads, for tests and the bench: reuses are the rest of open()'s calls. */
  reads = 0;
  /** Copies caught up through the change log (counted in no `reads`). */
  catchUps = 0;
  /** Candidate indexes built (a kept one patched or reused builds none). */
  indexBuilds = 0;

  constructor(private readonly deps: FleetCacheDeps) {}

  /**
   * The fleet as `trx` (holding the placement lock) sees it. Call once per transaction:
   * what it adds is counted against the version it was opened at.
   */
  async open(trx: Kysely<Database>): Promise<OpenFleet> {
    const version = await readFleetVersion(trx);
    const now = this.deps.now();
    const kept = this.kept && (this.kept.version === version ? this.kept : await this.catchUp(trx, this.kept, version));
    if (kept && now - kept.seenAt >= REFRESH_MS) await this.refreshSeen(trx, kept, now);
    const reused = kept ? await this.online(trx, kept) : null;
    const base = reused ? (kept as KeptFleet) : await this.read(trx, version, now);
    const { devices, silent } = reused ?? this.split(base.devices);
    // Shared with the kept copy until this transaction adds a part (copied then): a launch that
    // places nothing, or a pass (it copies what it changes), copies no 10,000 parts.
    let live = base.live as LiveRunPartRow[];
    const silentKey = silent.join(",");
    let index = reused && base.index?.silent === silentKey ? base.index.index : null;
    let added = 0;
    if (trx.isTransaction) {
      afterCommit(trx, () => {
        this.kept = { ...base, live, base: version, version: version + added, index: index && { silent: silentKey, index } };
      });
    }
    const snapshot: Snapshot = { devices, live, reservations: base.reservations };
    const ownIndex = () => {
      if (!index) {
        this.indexBuilds++;
        index = new CandidateIndex(scopeCandidates(toCandidates(devices, live), base.reservations, null));
      }
      return index;
    };
    // The kept index is about to show this transaction's placements: not kept until its commit
    // (kept again then), and let go of should it roll back. The rest of the copy stays kept:
    // its parts list is never changed in place.
    const detachIndex = () => {
      if (index && this.kept?.index?.index === index) this.kept = { ...this.kept, index: null };
    };
    const record = (nodes: readonly Pick<PlacedNode, "deviceId" | "gpuIndices">[]) => {
      if (nodes.length === 0) return;
      if (live === base.live) snapshot.live = live = [...base.live];
      for (const node of nodes)
        live.push({ device_id: Number(node.deviceId), gpu_indices_json: JSON.stringify(node.gpuIndices) });
    };
    return {
      snapshot,
      silent,
      index: ownIndex,
      add: (nodes) => {
        detachIndex();
        record(nodes);
        index?.take(nodes);
        added += nodes.length;
      },
      indexForPass: () => {
        const taken = ownIndex();
        detachIndex();
        return taken;
      },
      passWrote: (nodes, bumps, exact) => {
        record(nodes);
        if (!exact) index = null;
        added += bumps;
      },
    };
  }

  private async read(trx: Kysely<Database>, version: number, now: number): Promise<KeptFleet> {
    this.reads++;
    // Every live part, not just those on online devices: capacity ignores the others, and a
    // list of 10,000 device ids costs more to send than the few parts it would leave out.
    const [devices, live, reservations] = [
      await listLiveDevices(trx),
      await listLivePartHoldings(trx),
      (await listReservations(trx)).map((r) => ({ clusterId: r.cluster_id, deviceId: r.device_id })),
    ];
    return { version, base: version, devices, live, reservations, seenAt: now, index: null };
  }

  /**
   * `kept` brought to `version` by reading again only the devices the change log names since
   * its base (see the file's comment); null when the log cannot tell, or names too many.
   */
  private async catchUp(trx: Kysely<Database>, kept: KeptFleet, version: number): Promise<KeptFleet | null> {
    if (version < kept.version || version - kept.base > MAX_LOGGED) return null;
    const changed = await readFleetChanges(trx, kept.base, version);
    if (!changed || changed.size > MAX_CAUGHT_UP) return null;
    const ids = [...changed];
    const rows = await listLiveDevicesIn(trx, ids);
    const parts = await listLivePartHoldingsOn(trx, ids);
    this.catchUps++;
    // New lists (the kept ones may be held by a transaction still open): the devices stay in id order.
    const devices: PlacementDeviceRow[] = [];
    const before = new Map<number, PlacementDeviceRow>();
    let next = 0;
    for (const device of kept.devices) {
      while (next < rows.length && rows[next].id < device.id) devices.push(rows[next++]);
      if (changed.has(device.id)) before.set(device.id, device);
      else devices.push(device);
    }
    while (next < rows.length) devices.push(rows[next++]);
    const live = kept.live.filter((part) => !changed.has(part.device_id));
    for (const part of parts) live.push(part);
    return { ...kept, version, base: version, devices, live, index: this.patchedIndex(trx, kept, before, rows, parts) };
  }

  /**
   * The kept index with the re-read devices' capacity, taken off the kept copy; null when
   * one of them came, went or changed in a column the index reads, or outside a transaction
   * (only one holding the placement lock may change the kept index).
   */
  private patchedIndex(
    trx: Kysely<Database>,
    kept: KeptFleet,
    before: ReadonlyMap<number, PlacementDeviceRow>,
    rows: readonly PlacementDeviceRow[],
    parts: readonly LiveRunPartRow[],
  ): KeptFleet["index"] {
    const index = kept.index;
    if (!index || !trx.isTransaction) return null;
    if (this.kept?.index === index) this.kept = { ...this.kept, index: null };
    if (rows.length !== before.size) return null;
    for (const row of rows) {
      const old = before.get(row.id);
      if (!old || !sameDevice(old, row)) return null;
    }
    for (const candidate of scopeCandidates(toCandidates(rows, parts), kept.reservations, null)) index.index.replace(candidate);
    return index;
  }

  /**
   * The kept devices' last_seen_at read again. Their rows are brought forward in place: a
   * transaction matching against them meanwhile only sees later heartbeats (the time only
   * grows, and a later one only makes a device online for longer).
   */
  private async refreshSeen(trx: Kysely<Database>, kept: KeptFleet, now: number): Promise<void> {
    const seen = await listLastSeen(trx);
    for (const device of kept.devices) {
      const lastSeenAt = seen.get(device.id);
      if (lastSeenAt !== undefined && lastSeenAt !== null && lastSeenAt > (device.last_seen_at ?? Number.NEGATIVE_INFINITY))
        device.last_seen_at = lastSeenAt;
    }
    kept.seenAt = now;
  }

  /**
   * Online and silent devices, in the order read: by the last_seen_at read with them, or for
   * those it has as silent by `seen` (looked up again) where given.
   */
  private split(
    devices: readonly PlacementDeviceRow[],
    seen?: ReadonlyMap<number, number | null>,
  ): { devices: PlacementDeviceRow[]; silent: number[] } {
    const isOnline = this.deps.onlineTest();
    const online: PlacementDeviceRow[] = [];
    const silent: number[] = [];
    for (const device of devices) {
      if (isOnline(device.last_seen_at)) online.push(device);
      else {
        const lastSeenAt = seen?.get(device.id) ?? null;
        if (isOnline(lastSeenAt)) online.push({ ...device, last_seen_at: lastSeenAt });
        else silent.push(device.id);
      }
    }
    return { devices: online, silent };
  }

  /** A kept copy's online devices now, looking up those it has as silent; null when too many. */
  private async online(
    trx: Kysely<Database>,
    kept: KeptFleet,
  ): Promise<{ devices: PlacementDeviceRow[]; silent: number[] } | null> {
    const split = this.split(kept.devices);
    if (split.silent.length === 0) return split;
    if (split.silent.length > MAX_STALE) return null;
    return this.split(kept.devices, await lastSeenOf(trx, split.silent));
  }
}
