/**
 * The candidates of one fleet snapshot, indexed for a queue pass that places many runs on it.
 *
 * The plain matcher looks at every device on every decision (filters, offers, a full sort):
 * about 10 ms at 10,000 devices. Here each (requester, GPU type, provider) gets a heap of the
 * devices with free GPUs of that type, in the allocator's rank order (allocate.ts), so a
 * decision reads only the few devices it takes. A placement (`take`) only ever removes
 * capacity, so a heap entry can only rank too early: an outdated one is re-ranked when it
 * surfaces (lazy update), and one with nothing left is dropped. Heaps are built on first use.
 *
 * Capacity that grows back (`release`, `replace`: a part ended, as the kept fleet learns it,
 * fleet-cache.ts) would break that: the device's entry may rank too late, or be gone. So the
 * device starts a new epoch: a fresh entry goes into every heap built so far that holds it,
 * and entries of an older epoch are dropped when they surface (each heap keeps at most one
 * entry of a device's current epoch, which the greedy walk relies on: never one device twice).
 * Only capacity may change so: a device's GPUs, price, owner or provider decide which heaps
 * and views hold it, and a change of those needs a new index.
 *
 * The index owns copies of the candidates it was given; `take` changes those copies only.
 */
import type { AllocNode, Allocation } from "./allocate.js";
import { byId, compareAllocations } from "./allocate.js";
import type { CandidateDevice } from "./job-needs.js";
import { MinHeap } from "./min-heap.js";
import { gpuIsOfType, mayUseStep, priceFor } from "./steps.js";
import type { FreeGroup } from "./wait-reason.js";

interface Slot {
  device: CandidateDevice;
  /** Position in the candidates' order (ties in the wait reason keep that order). */
  pos: number;
  /** Bumped by every `take` on this device. */
  version: number;
  /** Bumped when its capacity grew: entries of an older epoch are dropped (the heaps got fresh ones). */
  epoch: number;
  /** Per wanted type ("" for any): its GPUs of that type, and the free ones as of `freeVersion`. */
  byType: Map<string, TypeView>;
  /** Every GPU of the device (ascending, and as a set): the lists of a type all its GPUs are of. */
  allGpus?: { all: number[]; set: Set<number> };
  /** The type last looked up and its view: a pass asks for one type again and again. */
  lastType?: string;
  lastView?: TypeView;
}

/** A type none of a device's GPUs is of; shared, never changed. */
const NO_GPUS: number[] = [];
const NO_GPU_SET: ReadonlySet<number> = new Set();

interface TypeView {
  /** Every GPU of the type, ascending (the offer step's `matchingAll`). */
  all: number[];
  /** Their indices. */
  set: ReadonlySet<number>;
  /** Whether every free GPU is of the type (free ones only ever go), so none need filtering. */
  coversFree: boolean;
  free: number[];
  freeVersion: number;
}

/** What the allocator reads: GPUs free now, or every GPU as if nothing ran (`ever`). */
type When = "now" | "ever";

/** `version` of an `ever` entry: it never goes out of date. */
const STATIC = -1;

/** A heap entry: a device ranked as it was at `version`. */
interface Ranked {
  slot: Slot;
  version: number;
  epoch: number;
  price: number;
  free: number;
  slots: number;
}

/** The allocator's rank (allocate.ts): cheaper, more GPUs, more free slots, lower id. */
const rankLess = (a: Ranked, b: Ranked): boolean =>
  a.price !== b.price
    ? a.price < b.price
    : a.free !== b.free
      ? a.free > b.free
      : a.slots !== b.slots
        ? a.slots > b.slots
        : byId(a.slot.device.deviceId, b.slot.device.deviceId) < 0;

/** A job wanting no GPUs (allocate.ts): the most free job slots, then the lowest id. */
const slotLess = (a: Ranked, b: Ranked): boolean =>
  a.slots !== b.slots ? a.slots > b.slots : byId(a.slot.device.deviceId, b.slot.device.deviceId) < 0;

/** The wait reason's order (wait-reason.ts): cheaper, then the candidates' order. */
const waitLess = (a: Ranked, b: Ranked): boolean => (a.price !== b.price ? a.price < b.price : a.slot.pos < b.slot.pos);

interface View {
  pool: CandidateDevice[];
  /** The requester's price per device position; undefined outside the pool. */
  prices: (number | undefined)[];
  /** Providers in order of first appearance in the pool (the allocator tries them so). */
  providers: string[];
}

const ALL_PROVIDERS = "\u0001all";

const hasRoom = (device: CandidateDevice) => device.freeSlots > 0 && device.freeGpuIndices.length > 0;

/** A heap over free capacity, with what it was built from: a device whose capacity grew is ranked into it again. */
interface NowHeap {
  heap: MinHeap<Ranked>;
  requesterId: string | null;
  type: string;
  keep: (slot: Slot) => boolean;
  rankOf: (slot: Slot, price: number) => Ranked | undefined;
}

export class CandidateIndex {
  /** The index's own copies, in the order given. */
  readonly candidates: readonly CandidateDevice[];
  private readonly slots: Slot[];
  private readonly byDeviceId = new Map<string, Slot[]>();
  private readonly views = new Map<string, View>();
  private readonly heaps = new Map<string, MinHeap<Ranked>>();
  private readonly nowHeaps: NowHeap[] = [];
  private readonly memos = new Map<string, unknown>();
  private readonly memosByHolder = new WeakMap<object, unknown>();
  private readonly untilTake = new WeakMap<object, { takes: number; value: unknown }>();
  /** Bumped by every `take`. */
  private takes = 0;
  /** Who owns some candidate: everyone else sees the same pool at the same prices. */
  private readonly owners = new Set<string>();

  /** Devices with a free job slot and a free GPU. */
  private roomy = 0;

  constructor(candidates: readonly CandidateDevice[]) {
    this.candidates = candidates.map((c) => ({ ...c, freeGpuIndices: [...c.freeGpuIndices] }));
    for (const c of this.candidates) if (hasRoom(c)) this.roomy++;
    for (const c of this.candidates) if (c.ownerId !== undefined) this.owners.add(c.ownerId);
    this.slots = this.candidates.map((device, pos) => ({ device, pos, version: 0, epoch: 0, byType: new Map() }));
    for (const slot of this.slots) {
      const same = this.byDeviceId.get(slot.device.deviceId);
      if (same) same.push(slot);
      else this.byDeviceId.set(slot.device.deviceId, [slot]);
    }
  }

  /** Whether some device still has a free GPU and a job slot for it: a GPU job could still fit. */
  hasRoomForGpuJobs(): boolean {
    return this.roomy > 0;
  }

  /** The candidates with this id (what the matcher's pin step keeps). */
  withId(deviceId: string): CandidateDevice[] {
    return (this.byDeviceId.get(deviceId) ?? []).map((s) => s.device);
  }

  nameOf(deviceId: string): string {
    return this.byDeviceId.get(deviceId)?.[0].device.name ?? deviceId;
  }

  /**
   * What the requester's view of the fleet depends on: requesters owning no candidate may use
   * the same devices (shared ones) at the same prices, so they share one view and its heaps.
   * Without that a pass over 200 users' queues built 200 copies of every heap.
   */
  viewKey(requesterId: string | null): string {
    if (requesterId === null) return "";
    return this.owners.has(requesterId) ? `u\u0001${requesterId}` : "\u0002stranger";
  }

  /** The devices `requesterId` may use (the matcher's may-use step), in the candidates' order. */
  pool(requesterId: string | null): CandidateDevice[] {
    return this.view(requesterId).pool;
  }

  /** A value computed once per snapshot (what never changes while only capacity is taken). */
  memo<T>(key: string, compute: () => T): T {
    if (this.memos.has(key)) return this.memos.get(key) as T;
    const value = compute();
    this.memos.set(key, value);
    return value;
  }

  /**
   * memo, also remembered by `holder`, an object the caller hands in again and again (a run's
   * needs): the key is built once per holder rather than once per decision.
   */
  memoFor<T>(holder: object, key: () => string, compute: () => T): T {
    if (this.memosByHolder.has(holder)) return this.memosByHolder.get(holder) as T;
    const value = this.memo(key(), compute);
    this.memosByHolder.set(holder, value);
    return value;
  }

  /**
   * A value of `holder` computed over the free capacity: kept until the next `take`. Over a
   * full fleet a pass decides thousands of runs that all wait for the same words.
   */
  untilNextTake<T>(holder: object, compute: () => T): T {
    const known = this.untilTake.get(holder);
    if (known && known.takes === this.takes) return known.value as T;
    const value = compute();
    this.untilTake.set(holder, { takes: this.takes, value });
    return value;
  }

  /**
   * The allocator's answer (allocate.ts) over free GPUs of `type` now, for `gpus` > 0: the
   * cheapest allocation, from one provider unless `crossProvider`.
   */
  cheapestNow(requesterId: string | null, type: string | null, gpus: number, crossProvider: boolean): Allocation | null {
    return this.cheapest(requesterId, type ?? "", gpus, crossProvider, "now");
  }

  /** The same if nothing were running: every GPU of the type, `max_jobs` slots. */
  cheapestEver(requesterId: string | null, type: string | null, gpus: number, crossProvider: boolean): Allocation | null {
    return this.cheapest(requesterId, type ?? "", gpus, crossProvider, "ever");
  }

  /**
   * The allocator's answer now for a job wanting no GPUs: one device, the one with the most
   * free job slots (then the lowest id), from one provider unless `crossProvider`.
   */
  slotNow(requesterId: string | null, crossProvider: boolean): Allocation | null {
    const top = (provider: string): Allocation | null => {
      const entry = this.peekCurrent(this.slotHeap(requesterId, provider), "", "now", true);
      if (!entry) return null;
      return { nodes: [{ deviceId: entry.slot.device.deviceId, gpuIndices: [], pricePerGpuHour: entry.price }], pricePerHour: 0 };
    };
    if (crossProvider) return top(ALL_PROVIDERS);
    let best: Allocation | null = null;
    const slotsOf = (id: string) => this.slotsOf(id, "now");
    for (const provider of this.view(requesterId).providers) {
      const found = top(provider);
      if (found && (!best || compareAllocations(found, best, slotsOf) < 0)) best = found;
    }
    return best;
  }

  private cheapest(requesterId: string | null, t: string, gpus: number, crossProvider: boolean, when: When): Allocation | null {
    if (crossProvider) return this.greedy(this.rankHeap(requesterId, t, ALL_PROVIDERS, when), t, gpus, when);
    let best: Allocation | null = null;
    const slotsOf = (id: string) => this.slotsOf(id, when);
    for (const provider of this.view(requesterId).providers) {
      const found = this.greedy(this.rankHeap(requesterId, t, provider, when), t, gpus, when);
      if (found && (!best || compareAllocations(found, best, slotsOf) < 0)) best = found;
    }
    return best;
  }

  /**
   * Devices with free GPUs of `type` and a free job slot, cheapest first, ties in the
   * candidates' order; read lazily, and the index is whole again once the loop ends.
   */
  *freeInPriceOrder(requesterId: string | null, type: string | null): Generator<FreeGroup> {
    const t = type ?? "";
    const heap = this.waitHeap(requesterId, t);
    const seen: Ranked[] = [];
    try {
      for (let entry = this.nextCurrent(heap, t, "now"); entry; entry = this.nextCurrent(heap, t, "now")) {
        seen.push(entry);
        yield { device: entry.slot.device, pricePerGpuHour: entry.price, free: entry.free };
      }
    } finally {
      for (const entry of seen) heap.push(entry);
    }
  }

  /** Applies a placement: each node's GPUs and one job slot are no longer free. */
  take(nodes: readonly Pick<AllocNode, "deviceId" | "gpuIndices">[]): void {
    for (const node of nodes) {
      const slot = this.byDeviceId.get(node.deviceId)?.[0];
      if (!slot) continue;
      const taken = node.gpuIndices;
      if (hasRoom(slot.device)) this.roomy--;
      slot.device.freeGpuIndices = slot.device.freeGpuIndices.filter((i) => !taken.includes(i));
      slot.device.freeSlots = Math.max(0, slot.device.freeSlots - 1);
      if (hasRoom(slot.device)) this.roomy++;
      slot.version++;
    }
    this.takes++;
  }

  /** Undoes a `take`: each node's GPUs and one job slot are free again. */
  release(nodes: readonly Pick<AllocNode, "deviceId" | "gpuIndices">[]): void {
    for (const node of nodes) {
      const slot = this.byDeviceId.get(node.deviceId)?.[0];
      if (!slot) continue;
      const free = new Set([...slot.device.freeGpuIndices, ...node.gpuIndices]);
      const listed = slot.device.gpus.map((g) => g.index).filter((i) => free.has(i));
      this.setFree(slot, listed, Math.min(slot.device.maxJobs, slot.device.freeSlots + 1));
    }
  }

  /**
   * The device's free GPUs and job slots as `candidate` has them now (the same device,
   * re-read: its GPUs, price, owner and provider unchanged). A device the index does not
   * hold is ignored.
   */
  replace(candidate: Pick<CandidateDevice, "deviceId" | "freeGpuIndices" | "freeSlots">): void {
    const slot = this.byDeviceId.get(candidate.deviceId)?.[0];
    if (slot) this.setFree(slot, [...candidate.freeGpuIndices], candidate.freeSlots);
  }

  private setFree(slot: Slot, free: number[], freeSlots: number): void {
    const device = slot.device;
    const had = new Set(device.freeGpuIndices);
    const grew = freeSlots > device.freeSlots || free.some((i) => !had.has(i));
    if (hasRoom(device)) this.roomy--;
    device.freeGpuIndices = free;
    device.freeSlots = freeSlots;
    if (hasRoom(device)) this.roomy++;
    slot.version++;
    this.takes++;
    if (!grew) return;
    // A view's coversFree held while free GPUs only went: worked out again on next use.
    slot.byType.clear();
    slot.lastType = undefined;
    slot.lastView = undefined;
    slot.epoch++;
    for (const { heap, requesterId, type, keep, rankOf } of this.nowHeaps) {
      const price = this.view(requesterId).prices[slot.pos];
      if (price === undefined || !keep(slot) || !this.holdsType(slot, type)) continue;
      const entry = rankOf(slot, price);
      if (entry) heap.push(entry);
    }
  }

  private slotsOf(deviceId: string, when: When): number {
    const device = this.byDeviceId.get(deviceId)?.[0].device;
    return device ? (when === "ever" ? device.maxJobs : device.freeSlots) : 0;
  }

  /** Takes entries in rank order until `gpus` are covered, then puts them back. */
  private greedy(heap: MinHeap<Ranked>, t: string, gpus: number, when: When): Allocation | null {
    const top = this.peekCurrent(heap, t, when);
    if (!top) return null;
    const topGpus = this.gpusOf(top.slot, t, when);
    if (topGpus.length >= gpus) {
      // The first device covers the job (the common case): read without reordering the heap.
      const take = topGpus.slice(0, gpus);
      return {
        nodes: [{ deviceId: top.slot.device.deviceId, gpuIndices: take, pricePerGpuHour: top.price }],
        pricePerHour: take.length * top.price,
      };
    }
    const seen: Ranked[] = [];
    const nodes: AllocNode[] = [];
    let left = gpus;
    let pricePerHour = 0;
    while (left > 0) {
      const entry = this.nextCurrent(heap, t, when);
      if (!entry) break;
      seen.push(entry);
      const take = this.gpusOf(entry.slot, t, when).slice(0, left);
      nodes.push({ deviceId: entry.slot.device.deviceId, gpuIndices: take, pricePerGpuHour: entry.price });
      pricePerHour += take.length * entry.price;
      left -= take.length;
    }
    for (const entry of seen) heap.push(entry);
    return left === 0 ? { nodes, pricePerHour } : null;
  }

  /** nextCurrent's entry, left on top of the heap (`slotsOnly`: a heap of slotHeap's). */
  private peekCurrent(heap: MinHeap<Ranked>, type: string, when: When, slotsOnly = false): Ranked | undefined {
    for (let entry = heap.peek(); entry; entry = heap.peek()) {
      if (entry.version === STATIC || entry.version === entry.slot.version) return entry;
      heap.pop();
      if (entry.epoch !== entry.slot.epoch) continue;
      const fresh = slotsOnly ? this.rankSlots(entry.slot, entry.price) : this.rank(entry.slot, type, entry.price, when);
      if (fresh) heap.push(fresh);
    }
    return undefined;
  }

  /** The next entry that is up to date; outdated ones are re-ranked, spent ones dropped. */
  private nextCurrent(heap: MinHeap<Ranked>, type: string, when: When): Ranked | undefined {
    for (let entry = heap.pop(); entry; entry = heap.pop()) {
      if (entry.version === STATIC || entry.version === entry.slot.version) return entry;
      // Its capacity grew since: the heap got a fresh entry for it then.
      if (entry.epoch !== entry.slot.epoch) continue;
      // Within an epoch capacity only shrinks, so the fresh rank is never earlier than the outdated one: every
      // entry above it in the heap still comes first, and the order stays the allocator's.
      const fresh = this.rank(entry.slot, type, entry.price, when);
      if (fresh) heap.push(fresh);
    }
    return undefined;
  }

  /** The slot's GPUs of the type, as the offer step finds them (names matched once per index). */
  private typeView(slot: Slot, type: string): TypeView {
    if (slot.lastType === type && slot.lastView) return slot.lastView;
    let view = slot.byType.get(type);
    if (!view) {
      const { gpus } = slot.device;
      let matching = 0;
      for (const g of gpus) if (this.nameMatches(g.name, type)) matching++;
      // Most devices hold one model: every GPU is of the type or none is. Those share their
      // lists across the types (a pass builds a view per device and wanted type: 10,000s).
      if (matching === gpus.length) {
        slot.allGpus ??= { all: gpus.map((g) => g.index).sort((a, b) => a - b), set: new Set(gpus.map((g) => g.index)) };
        view = { all: slot.allGpus.all, set: slot.allGpus.set, coversFree: true, free: [], freeVersion: -1 };
      } else if (matching === 0) {
        view = { all: NO_GPUS, set: NO_GPU_SET, coversFree: slot.device.freeGpuIndices.length === 0, free: [], freeVersion: -1 };
      } else {
        const set = new Set(gpus.filter((g) => this.nameMatches(g.name, type)).map((g) => g.index));
        const all = [...set].sort((a, b) => a - b);
        const coversFree = slot.device.freeGpuIndices.every((i) => set.has(i));
        view = { all, set, coversFree, free: [], freeVersion: -1 };
      }
      slot.byType.set(type, view);
    }
    slot.lastType = type;
    slot.lastView = view;
    return view;
  }

  /** Per wanted type, per GPU name: whether it is of the type (a fleet has few names). */
  private readonly nameCache = new Map<string, Map<string, boolean>>();

  private nameMatches(gpuName: string, type: string): boolean {
    if (!type) return true;
    let names = this.nameCache.get(type);
    if (!names) {
      names = new Map();
      this.nameCache.set(type, names);
    }
    let answer = names.get(gpuName);
    if (answer === undefined) {
      answer = gpuIsOfType(gpuName, type);
      names.set(gpuName, answer);
    }
    return answer;
  }

  /** The GPUs of the type the allocator may take: free ones (ascending) or all of them. */
  private gpusOf(slot: Slot, type: string, when: When): number[] {
    const view = this.typeView(slot, type);
    if (when === "ever") return view.all;
    if (view.freeVersion !== slot.version) {
      const set = view.set;
      const free = view.coversFree ? [...slot.device.freeGpuIndices] : slot.device.freeGpuIndices.filter((i) => set.has(i));
      view.free = free.sort((a, b) => a - b);
      view.freeVersion = slot.version;
    }
    return view.free;
  }

  /** The slot's entry as it is now (or ever); undefined when it has no slot or no such GPU. */
  private rank(slot: Slot, type: string, price: number, when: When): Ranked | undefined {
    const slots = when === "ever" ? slot.device.maxJobs : slot.device.freeSlots;
    if (slots < 1) return undefined;
    const free = this.gpusOf(slot, type, when).length;
    if (free === 0) return undefined;
    return { slot, version: when === "ever" ? STATIC : slot.version, epoch: slot.epoch, price, free, slots };
  }

  /** The slot's entry by its free job slots alone; undefined when it has none. */
  private rankSlots(slot: Slot, price: number): Ranked | undefined {
    const slots = slot.device.freeSlots;
    return slots < 1 ? undefined : { slot, version: slot.version, epoch: slot.epoch, price, free: 0, slots };
  }

  private view(requesterId: string | null): View {
    const key = this.viewKey(requesterId);
    let view = this.views.get(key);
    if (!view) {
      const pool = mayUseStep({ requesterId }, this.candidates);
      const inPool = new Set(pool);
      const prices = this.slots.map((s) => (inPool.has(s.device) ? priceFor(requesterId, s.device) : undefined));
      const providers = [...new Set(pool.map((d) => d.provider ?? ""))];
      view = { pool, prices, providers };
      this.views.set(key, view);
    }
    return view;
  }

  private buildHeap(
    key: string,
    requesterId: string | null,
    type: string,
    keep: (slot: Slot) => boolean,
    less: (a: Ranked, b: Ranked) => boolean,
    when: When,
    rankOf: (slot: Slot, price: number) => Ranked | undefined = (slot, price) => this.rank(slot, type, price, when),
  ): MinHeap<Ranked> {
    let heap = this.heaps.get(key);
    if (!heap) {
      const { prices } = this.view(requesterId);
      const entries: Ranked[] = [];
      for (const slot of this.slotsOfType(type)) {
        const price = prices[slot.pos];
        if (price === undefined || !keep(slot)) continue;
        const entry = rankOf(slot, price);
        if (entry) entries.push(entry);
      }
      heap = new MinHeap(less, entries);
      this.heaps.set(key, heap);
      if (when === "now") this.nowHeaps.push({ heap, requesterId, type, keep, rankOf });
    }
    return heap;
  }

  /** Slots of the type's lists. */
  private readonly typed = new Map<string, Slot[]>();

  /**
   * The slots with a GPU of the type (every slot for any type): a heap of the type holds
   * nothing else. A fleet has a few models, so a typed heap reads a few of every slot.
   */
  private slotsOfType(type: string): readonly Slot[] {
    if (!type) return this.slots;
    let slots = this.typed.get(type);
    if (!slots) {
      slots = this.slots.filter((slot) => this.holdsType(slot, type));
      this.typed.set(type, slots);
    }
    return slots;
  }

  private holdsType(slot: Slot, type: string): boolean {
    return !type || slot.device.gpus.some((g) => this.nameMatches(g.name, type));
  }

  private rankHeap(requesterId: string | null, t: string, provider: string, when: When): MinHeap<Ranked> {
    return this.buildHeap(
      `${when}\u0000${this.viewKey(requesterId)}\u0000${t}\u0000${provider}`,
      requesterId,
      t,
      (slot) => provider === ALL_PROVIDERS || (slot.device.provider ?? "") === provider,
      rankLess,
      when,
    );
  }

  private slotHeap(requesterId: string | null, provider: string): MinHeap<Ranked> {
    return this.buildHeap(
      `slots\u0000${this.viewKey(requesterId)}\u0000${provider}`,
      requesterId,
      "",
      (slot) => provider === ALL_PROVIDERS || (slot.device.provider ?? "") === provider,
      slotLess,
      "now",
      (slot, price) => this.rankSlots(slot, price),
    );
  }

  private waitHeap(requesterId: string | null, t: string): MinHeap<Ranked> {
    return this.buildHeap(`wait\u0000${this.viewKey(requesterId)}\u0000${t}`, requesterId, t, () => true, waitLess, "now");
  }
}
