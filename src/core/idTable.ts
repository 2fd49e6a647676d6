/**
 * A map from chunk or file ids to non-negative integers, kept in a typed array indexed by id:
 * ids come from counters that start at 1, and opening a store fills one entry per passage
 * (~100k), which costs a Map tens of milliseconds and megabytes of garbage. Ids outside the
 * array's range (never made by a store) go to a Map.
 */
const DIRECT_LIMIT = 1 << 24;

export class IdTable {
  /** value + 1 per id; 0 = absent. */
  private direct = new Int32Array(0);
  private readonly others = new Map<number, number>();
  private count = 0;

  get size(): number {
    return this.count + this.others.size;
  }

  get(id: number): number | undefined {
    if (!isDirect(id)) return this.others.get(id);
    const stored = id < this.direct.length ? this.direct[id]! : 0;
    return stored === 0 ? undefined : stored - 1;
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  set(id: number, value: number): void {
    if (!isDirect(id)) {
      this.others.set(id, value);
      return;
    }
    if (id >= this.direct.length) this.grow(id);
    if (this.direct[id] === 0) this.count++;
    this.direct[id] = value + 1;
  }

  /** Sets ids[i] to first + i for every i: one pass without a call per id (a store opens ~100k). */
  setAll(ids: ArrayLike<number>, first: number): void {
    let top = -1;
    for (let i = 0; i < ids.length; i++) if (ids[i]! > top) top = ids[i]!;
    if (!isDirect(top) || ids.length === 0) {
      for (let i = 0; i < ids.length; i++) this.set(ids[i]!, first + i);
      return;
    }
    if (top >= this.direct.length) this.grow(top);
    const { direct } = this;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 0) this.set(id, first + i);
      else {
        if (direct[id] === 0) this.count++;
        direct[id] = first + i + 1;
      }
    }
  }

  private grow(id: number): void {
    const grown = new Int32Array(Math.min(DIRECT_LIMIT, Math.max(1024, id + 1, this.direct.length * 2)));
    grown.set(this.direct);
    this.direct = grown;
  }

  delete(id: number): boolean {
    if (!isDirect(id)) return this.others.delete(id);
    if (id >= this.direct.length || this.direct[id] === 0) return false;
    this.direct[id] = 0;
    this.count--;
    return true;
  }
}

/**
 * The index of `id` in `ids` (ascending, as posting lists are) by binary search, or -1.
 */
export function sortedIndexOf(ids: ArrayLike<number>, id: number): number {
  let low = 0;
  let high = ids.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const at = ids[middle]!;
    if (at === id) return middle;
    if (at < id) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/**
 * Where each of a fixed list of distinct ids is. A store writes a segment's and a catalog's ids
 * in ascending order (they come from counters), so a reader finds an id by binary search without
 * filling a table over all of them, a loop that cost a cold query more than its search. A hit is
 * right whatever the order; at the first miss the list is checked once: ascending, a miss is
 * certain from then on; not (a store written otherwise), an IdTable over the list answers.
 */
export class IdIndex {
  /** undefined until the first miss; null when the ids ascend. */
  private table: IdTable | null | undefined;

  constructor(readonly ids: ArrayLike<number>) {}

  /** The index of `id` in the list, or -1. */
  indexOf(id: number): number {
    if (this.table) return this.table.get(id) ?? -1;
    const i = sortedIndexOf(this.ids, id);
    if (i >= 0 || this.table === null) return i;
    this.table = ascending(this.ids) ? null : tableOf(this.ids);
    return this.table ? (this.table.get(id) ?? -1) : -1;
  }
}

function ascending(ids: ArrayLike<number>): boolean {
  for (let i = 1; i < ids.length; i++) if (ids[i]! <= ids[i - 1]!) return false;
  return true;
}

function tableOf(ids: ArrayLike<number>): IdTable {
  const table = new IdTable();
  table.setAll(ids, 0);
  return table;
}

function isDirect(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id < DIRECT_LIMIT;
}
