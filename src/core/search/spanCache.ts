/**
 * A cache from a span of a text (its code units units[start, end)) to what a tokenizer made of
 * it, looked up without cutting the span out: open addressing on the span's hash, keys as code
 * units compared in place. The tokenizers (keyword terms, WordPiece ids) see the same few
 * thousand words over and over; a Map keyed by strings needs a substring per word and, once it
 * holds a few thousand, spends most of a text's time on cache misses. No key keeps a reference
 * to the text it came from.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A text's UTF-16 code units in a typed array that is reused for each text (`of`), which the
 * tokenizers scan instead of the string. Texts arrive as strings of many shapes (flat, sliced,
 * cons, one- or two-byte, internalized), and past four of them every `text.charCodeAt` and
 * `text.length` in a scanning loop became a megamorphic property lookup: 5-6% of an index run's
 * CPU, and the tokenizer's loops took 2.5 times the samples they take over code units (perf).
 */
export class CodeUnits {
  private units = new Uint16Array(1024);
  private bytes = Buffer.from(this.units.buffer);

  /** `text`'s code units, lone surrogates included, in [0, text.length); valid until the next call. */
  of(text: string): Uint16Array {
    if (this.units.length < text.length) {
      this.units = new Uint16Array(2 * text.length);
      this.bytes = Buffer.from(this.units.buffer);
    }
    // One copy in C++; UTF-16LE is the array's own order except on a big-endian machine.
    if (LITTLE_ENDIAN) this.bytes.write(text, 0, 'utf16le');
    else for (let i = 0; i < text.length; i++) this.units[i] = text.charCodeAt(i);
    return this.units;
  }
}

/** FNV-1a over a span's code units: SPAN_HASH_SEED, then spanHashStep per code unit (or spanHash). */
export const SPAN_HASH_SEED = 0x811c9dc5 | 0;

export function spanHashStep(hash: number, codeUnit: number): number {
  return Math.imul(hash ^ codeUnit, 0x01000193);
}

export function spanHash(units: Uint16Array, start: number, end: number): number {
  let hash = SPAN_HASH_SEED;
  for (let i = start; i < end; i++) hash = spanHashStep(hash, units[i]!);
  return hash;
}

/** What SpanTable.get answers for a span it does not hold. */
export const NO_SPAN = -0x80000000;

/** Code units of a key kept in its slot; longer keys are kept in a pool beside the table. */
const INLINE_UNITS = 8;
/** Int32s per slot: hash, value, key length (0: empty), pool offset, then the inline key, two code units per int32. */
const SLOT = 4 + INLINE_UNITS / 2;
const FRONT_SLOTS = 4096;

/**
 * Spans of text (units[start, end)) to int32 values, looked up without cutting the span out: open
 * addressing on the span's hash. A slot holds all a lookup reads for a key of up to eight code
 * units (most words): its hash, length, value and the key itself, in 32 bytes, so a hit costs one
 * cache line. The tokenizers look up every word of every passage here, and a parse worker's table
 * (175,000 compounds on a large corpus) is far larger than the CPU's caches: with hash, key bounds,
 * characters and value in four arrays, the four misses of a lookup were three quarters of the
 * keyword tokenizer's time in a full index (cpu-profile line ticks). No key keeps a reference to
 * the text it came from.
 */
export class SpanTable {
  private slots = new Int32Array(SLOT * 4096);
  /**
   * The last key found on each of FRONT_SLOTS hashes, copied out of `slots`: 128 KB that stay in
   * the CPU's caches and TLB, which the table does not once it is large. Word counts are skewed
   * (the 4,096 commonest compounds of corpus-100 are 82% of its tokens), so most lookups end here.
   */
  private readonly front = new Int32Array(SLOT * FRONT_SLOTS);
  /** Keys longer than INLINE_UNITS, one after another. */
  private chars = new Uint16Array(4096);
  private charsUsed = 0;
  private count = 0;

  /** `limit`: entries kept; later spans are not stored. */
  constructor(private readonly limit: number) {}

  get size(): number {
    return this.count;
  }

  /** Whether it holds `limit` entries, and so stores no more. */
  get full(): boolean {
    return this.count >= this.limit;
  }

  /** The value stored for the code units units[start, end) (`hash` from spanHash), or NO_SPAN. */
  get(units: Uint16Array, start: number, end: number, hash: number): number {
    const length = end - start;
    const front = this.front;
    const near = (hash & (FRONT_SLOTS - 1)) * SLOT;
    if (front[near + 2] === length && front[near] === hash && this.keyIs(front, near, units, start, length)) return front[near + 1]!;
    const slots = this.slots;
    const mask = slots.length / SLOT - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const at = slot * SLOT;
      const stored = slots[at + 2]!;
      if (stored === 0) return NO_SPAN;
      if (stored !== length || slots[at] !== hash || !this.keyIs(slots, at, units, start, length)) continue;
      for (let k = 0; k < SLOT; k++) front[near + k] = slots[at + k]!;
      return slots[at + 1]!;
    }
  }

  /** Stores `value` for units[start, end), which must not be stored yet and not be empty; nothing once the table is full. */
  set(units: Uint16Array, start: number, end: number, hash: number, value: number): void {
    const length = end - start;
    if (this.full || length === 0) return;
    // At most three quarters full: a table as large as the four arrays it replaced (most lookups end in the front).
    if (4 * (this.count + 1) > 3 * (this.slots.length / SLOT)) this.rehash(2 * this.slots.length);
    const at = this.freeSlot(hash);
    const slots = this.slots;
    slots[at] = hash;
    slots[at + 1] = value;
    slots[at + 2] = length;
    if (length <= INLINE_UNITS) {
      for (let k = 0; k < length; k += 2) slots[at + 4 + (k >> 1)] = pair(units, start + k, start + length);
    } else {
      this.chars = grown(this.chars, this.charsUsed + length);
      this.chars.set(units.subarray(start, end), this.charsUsed);
      slots[at + 3] = this.charsUsed;
      this.charsUsed += length;
    }
    this.count++;
  }

  /** Whether the key of the slot at `at` of `slots` (the table or the front) is units[start, start + length), its length. */
  private keyIs(slots: Int32Array, at: number, units: Uint16Array, start: number, length: number): boolean {
    if (length <= INLINE_UNITS) {
      for (let k = 0; k < length; k += 2) if (slots[at + 4 + (k >> 1)] !== pair(units, start + k, start + length)) return false;
      return true;
    }
    const chars = this.chars;
    for (let k = 0, from = slots[at + 3]!; k < length; k++) if (chars[from + k] !== units[start + k]) return false;
    return true;
  }

  /** The offset of the first empty slot on `hash`'s probe sequence. */
  private freeSlot(hash: number): number {
    const slots = this.slots;
    const mask = slots.length / SLOT - 1;
    let slot = hash & mask;
    while (slots[slot * SLOT + 2] !== 0) slot = (slot + 1) & mask;
    return slot * SLOT;
  }

  private rehash(length: number): void {
    const old = this.slots;
    this.slots = new Int32Array(length);
    const slots = this.slots;
    for (let from = 0; from < old.length; from += SLOT) {
      if (old[from + 2] === 0) continue;
      const to = this.freeSlot(old[from]!);
      for (let k = 0; k < SLOT; k++) slots[to + k] = old[from + k]!;
    }
  }
}

/** units[i] and units[i + 1] in one int32 (the second 0 at or past `end`), as SpanTable keeps inline keys. */
function pair(units: Uint16Array, i: number, end: number): number {
  return units[i]! | (i + 1 < end ? units[i + 1]! << 16 : 0);
}

/** A SpanTable whose values are any values: the table holds each one's index. */
export class SpanCache<T> {
  private readonly table: SpanTable;
  private readonly values: T[] = [];

  /** `limit`: entries kept; later spans are not cached. */
  constructor(limit: number) {
    this.table = new SpanTable(limit);
  }

  get size(): number {
    return this.table.size;
  }

  get full(): boolean {
    return this.table.full;
  }

  /** The value stored for the code units units[start, end) (`hash` from spanHash), or undefined. */
  get(units: Uint16Array, start: number, end: number, hash: number): T | undefined {
    const index = this.table.get(units, start, end, hash);
    return index === NO_SPAN ? undefined : this.values[index];
  }

  /** Stores `value` for units[start, end), which must not be cached yet; nothing once the cache is full. */
  set(units: Uint16Array, start: number, end: number, hash: number, value: T): void {
    const before = this.table.size;
    this.table.set(units, start, end, hash, this.values.length);
    if (this.table.size > before) this.values.push(value);
  }
}

/** `array`, or a copy at least twice as long when it is shorter than `needed`. */
function grown<A extends Int32Array | Uint16Array>(array: A, needed: number): A {
  if (needed <= array.length) return array;
  const copy = new (array.constructor as new (length: number) => A)(Math.max(needed, 2 * array.length));
  copy.set(array);
  return copy;
}
